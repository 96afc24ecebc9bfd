package keyring

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func mustKey(t *testing.T) Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRing(t *testing.T, keys ...Key) *Keyring {
	t.Helper()
	kr, err := New("test", keys...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// TestSealOpen: a sealed value names its key, hides its plaintext, opens
// with its key and its aad only, and tells a missing key from damage.
func TestSealOpen(t *testing.T) {
	a, b := mustKey(t), mustKey(t)
	kr := mustRing(t, a)
	s, err := kr.Seal("mqtt.broker.password", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "$aesgcm1$"+a.ID()+"$") || strings.Contains(s, "s3cret") {
		t.Fatalf("sealed %q", s)
	}
	if sealed, current := kr.Sealed(s); !sealed || !current {
		t.Errorf("Sealed(own) = %v, %v", sealed, current)
	}
	if sealed, _ := kr.Sealed("s3cret"); sealed {
		t.Errorf("plaintext reads as sealed")
	}
	if got, err := kr.Open("mqtt.broker.password", s); got != "s3cret" || err != nil {
		t.Errorf("Open = %q, %v", got, err)
	}
	again, _ := kr.Seal("mqtt.broker.password", "s3cret")
	if again == s {
		t.Errorf("two seals of one value are equal (nonce reused)")
	}
	rotated := kr.WithCurrent(b)
	if sealed, current := rotated.Sealed(s); !sealed || current {
		t.Errorf("Sealed(old key) after rotation = %v, %v", sealed, current)
	}
	if got, err := rotated.Open("mqtt.broker.password", s); got != "s3cret" || err != nil {
		t.Errorf("Open with the old key still in the ring = %q, %v", got, err)
	}
	cases := []struct {
		name, aad, value string
		ring             *Keyring
		want             string
		unknown          bool
	}{
		{"another key", "mqtt.broker.password", s, mustRing(t, b), "it was encrypted with key " + a.ID() + ", which is not in test (keys " + b.ID() + ")", true},
		{"another column", "mqtt.broker.client_key", s, kr, "damaged or was moved from another field", false},
		{"damaged", "mqtt.broker.password", s[:len(s)-4] + "AAAA", kr, "damaged", false},
		{"truncated", "mqtt.broker.password", "$aesgcm1$" + a.ID() + "$AAAA", kr, "damaged", false},
		{"plaintext", "mqtt.broker.password", "s3cret", kr, "not an encrypted value", false},
	}
	for _, c := range cases {
		_, err := c.ring.Open(c.aad, c.value)
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.Is(err, ErrUnknownKey) != c.unknown {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestParse: keys in base64, one a line or comma-separated, the first
// sealing; nothing else.
func TestParse(t *testing.T) {
	a, b := mustKey(t), mustKey(t)
	kr, err := Parse("env", a.String()+", "+b.String())
	if err != nil || len(kr.Keys()) != 2 || kr.Current().ID() != a.ID() {
		t.Fatalf("Parse of two keys: %v, %v", kr, err)
	}
	kr, err = Parse("file", "# comment\n\n"+b.String()+"\n"+a.String()+"\n"+b.String()+"\n")
	if err != nil || len(kr.Keys()) != 2 || kr.Current().ID() != b.ID() {
		t.Fatalf("Parse of a file: %v, %v", kr, err)
	}
	for _, bad := range []string{"", "# only a comment\n", "c2hvcnQ=", "not base64!"} {
		if _, err := Parse("x", bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if k, err := ParseKey(a.String()); err != nil || k.ID() != a.ID() {
		t.Errorf("a key's id depends only on the key: %v, %v", k.ID(), err)
	}
}

// TestKeyFile: the file is created once, private, with one key; it is
// read back the same; WriteFile replaces it whole.
func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	if _, err := LoadFile(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadFile of nothing: %v", err)
	}
	kr, created, err := LoadOrCreateFile(path)
	if err != nil || !created {
		t.Fatalf("create: %v, %v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", st.Mode(), err)
	}
	again, created, err := LoadOrCreateFile(path)
	if err != nil || created || again.Current().ID() != kr.Current().ID() {
		t.Fatalf("second start: %v, created %v, %v", again, created, err)
	}
	b := mustKey(t)
	if err := WriteFile(path, kr.WithCurrent(b)); err != nil {
		t.Fatal(err)
	}
	both, err := LoadFile(path)
	if err != nil || len(both.Keys()) != 2 || both.Current().ID() != b.ID() {
		t.Fatalf("after WriteFile: %v, %v", both, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("rewritten key file mode %v", st.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".secret.key.*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestKeyFileCreatedOnce: servers starting together end up with one key.
func TestKeyFileCreatedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Go(func() {
			kr, _, err := LoadOrCreateFile(path)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = kr.Current().ID()
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("two keys created: %v", ids)
		}
	}
}
