package listener

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestConnackGate: the first packet (a CONNACK) goes through exactly,
// however large the reader's buffer, with a multi-byte remaining length
// too; nothing after it until release; a Close ends a read waiting for
// release.
func TestConnackGate(t *testing.T) {
	long := append([]byte{0x20, 0x81, 0x01}, bytes.Repeat([]byte{7}, 129)...) // remaining length 129
	publish := []byte{0x32, 0x07, 0x00, 0x01, 'a', 0x00, 0x01, 'h', 'i'}
	for _, tc := range []struct {
		name    string
		connack []byte
	}{
		{"short", []byte{0x20, 0x03, 0x01, 0x00, 0x00}},
		{"long", long},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broker, client := net.Pipe()
			defer broker.Close()
			g := newConnackGate(client)
			go func() { _, _ = broker.Write(append(append([]byte{}, tc.connack...), publish...)) }()
			got := make([]byte, len(tc.connack))
			if _, err := io.ReadFull(g, got); err != nil || !bytes.Equal(got, tc.connack) {
				t.Fatalf("first packet = %x, %v; want %x", got, err, tc.connack)
			}
			next := make(chan []byte, 1)
			go func() {
				buf := make([]byte, len(publish))
				_, _ = io.ReadFull(g, buf)
				next <- buf
			}()
			select {
			case b := <-next:
				t.Fatalf("read %x before release", b)
			case <-time.After(100 * time.Millisecond):
			}
			g.release()
			if b := <-next; !bytes.Equal(b, publish) {
				t.Errorf("after release = %x, want %x", b, publish)
			}
		})
	}
	t.Run("close", func(t *testing.T) {
		broker, client := net.Pipe()
		defer broker.Close()
		g := newConnackGate(client)
		go func() { _, _ = broker.Write([]byte{0x20, 0x02, 0x00, 0x00}) }()
		if _, err := io.ReadFull(g, make([]byte, 4)); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { _, err := g.Read(make([]byte, 8)); done <- err }()
		_ = g.Close()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Errorf("read after Close = %v, want net.ErrClosed", err)
		}
	})
}
