package listener

import (
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestPingerV5: on MQTT 5 the record's ping timeout applies: a broker
// that stops answering PINGREQ ends the connection after it, and one that
// answers keeps it.
func TestPingerV5(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer bool
	}{{"unanswered", false}, {"answered", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ours, broker := net.Pipe()
			defer ours.Close()
			defer broker.Close()
			p := newPinger(200 * time.Millisecond)
			var pings atomic.Int32
			go func() {
				b := make([]byte, 2)
				for {
					if _, err := io.ReadFull(broker, b); err != nil {
						return
					}
					if b[0] == 0xC0 && b[1] == 0 { // PINGREQ
						pings.Add(1)
						if tc.answer {
							p.PacketReceived()
							p.PingResp()
						}
					}
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 3500*time.Millisecond)
			defer cancel()
			err := p.Run(ctx, ours, 1)
			switch {
			case !tc.answer && (err == nil || !strings.Contains(err.Error(), "no PINGRESP within 200ms")):
				t.Fatalf("unanswered pings: Run = %v, want the ping timeout", err)
			case tc.answer && err != nil:
				t.Fatalf("answered pings: Run = %v", err)
			case tc.answer && pings.Load() < 2:
				t.Fatalf("answered pings: %d PINGREQ sent in 3.5 s with a 1 s keepalive", pings.Load())
			}
		})
	}
}
