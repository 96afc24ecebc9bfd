// Package keyring encrypts the secrets the server must be able to read back
// (broker passwords, TLS private keys) before they reach the database, with
// AES-256-GCM under a server key that lives outside the database: a key file
// or a key given in the environment. A copy of the database without the key
// yields no secret.
//
// A keyring holds one or more keys. The first one encrypts; every one of
// them decrypts, so that a rotation interrupted half way leaves nothing
// unreadable. Each sealed value names the key that sealed it:
//
//	$aesgcm1$<key id>$<base64 of nonce, ciphertext and tag>
//
// The key id is derived from the key (8 hex digits of a SHA-256), so the
// same key has the same id whether it comes from a file or the environment,
// and a wrong key is told from a damaged value.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// prefix starts every sealed value; a stored value without it is plaintext
// written before encryption was turned on.
const prefix = "$aesgcm1$"

// ErrUnknownKey is the cause of an Open failure when the value was sealed
// with a key the keyring does not hold.
var ErrUnknownKey = errors.New("unknown key")

// Key is one AES-256 key.
type Key struct {
	id   string
	raw  []byte
	aead cipher.AEAD
}

// ID is the key's id, as sealed values name it.
func (k Key) ID() string { return k.id }

// String is the key in the form key files and ODOO_IOT_MQTT_SECRET_KEY
// hold: standard base64.
func (k Key) String() string { return base64.StdEncoding.EncodeToString(k.raw) }

// NewKey generates a random key.
func NewKey() (Key, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return Key{}, fmt.Errorf("keyring: generate a key: %w", err)
	}
	return keyFrom(raw)
}

// ParseKey reads a key in its base64 form.
func ParseKey(s string) (Key, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(raw) != KeySize {
		return Key{}, fmt.Errorf("keyring: a key is %d random bytes in base64 (44 characters, e.g. from `openssl rand -base64 32`)", KeySize)
	}
	return keyFrom(raw)
}

func keyFrom(raw []byte) (Key, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return Key{}, fmt.Errorf("keyring: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return Key{}, fmt.Errorf("keyring: %w", err)
	}
	sum := sha256.Sum256(append([]byte("odoo-iot-mqtt key id\x00"), raw...))
	return Key{id: hex.EncodeToString(sum[:4]), raw: raw, aead: aead}, nil
}

// Keyring seals with its first key and opens with any of its keys. It is
// safe for concurrent use: it never changes once made.
type Keyring struct {
	keys []Key
	// source says where the keys came from, for error messages ("key file
	// data/x.key", "ODOO_IOT_MQTT_SECRET_KEY").
	source string
}

// New returns a keyring of keys, the first one sealing; source names where
// they came from in error messages.
func New(source string, keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("keyring: no key")
	}
	seen := map[string]bool{}
	var out []Key
	for _, k := range keys {
		if !seen[k.id] {
			seen[k.id] = true
			out = append(out, k)
		}
	}
	return &Keyring{keys: out, source: source}, nil
}

// Parse reads keys in base64, one per line or separated by commas; blank
// lines and lines starting with # are skipped. The first key seals.
func Parse(source, text string) (*Keyring, error) {
	var keys []Key
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, item := range strings.Split(line, ",") {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			k, err := ParseKey(item)
			if err != nil {
				return nil, fmt.Errorf("%s, line %d: %w", source, i+1, err)
			}
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s holds no key", source)
	}
	return New(source, keys...)
}

// Current is the key that seals.
func (kr *Keyring) Current() Key { return kr.keys[0] }

// Keys lists the keys, the sealing one first.
func (kr *Keyring) Keys() []Key { return append([]Key(nil), kr.keys...) }

// Source says where the keys came from.
func (kr *Keyring) Source() string { return kr.source }

// WithCurrent returns a keyring that seals with k and still opens with
// the keys of kr: the state of a rotation between its two steps.
func (kr *Keyring) WithCurrent(k Key) *Keyring {
	out, _ := New(kr.source, append([]Key{k}, kr.keys...)...)
	return out
}

// Seal encrypts plaintext with the current key. aad binds the value to
// where it is stored (a model and field name): a sealed value copied into
// another column does not open.
func (kr *Keyring) Seal(aad, plaintext string) (string, error) {
	k := kr.keys[0]
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("keyring: nonce: %w", err)
	}
	out := k.aead.Seal(nonce, nonce, []byte(plaintext), []byte(aad))
	return prefix + k.id + "$" + base64.RawStdEncoding.EncodeToString(out), nil
}

// Sealed reports whether stored is a sealed value (and not plaintext from
// before encryption), and whether the current key sealed it.
func (kr *Keyring) Sealed(stored string) (sealed, current bool) {
	id, _, ok := split(stored)
	return ok, ok && id == kr.keys[0].id
}

// Open decrypts a value Seal returned, with the key it names. The error
// says which key was missing, or that the value is damaged.
func (kr *Keyring) Open(aad, stored string) (string, error) {
	id, body, ok := split(stored)
	if !ok {
		return "", errors.New("not an encrypted value")
	}
	for _, k := range kr.keys {
		if k.id != id {
			continue
		}
		raw, err := base64.RawStdEncoding.DecodeString(body)
		if err != nil || len(raw) < k.aead.NonceSize()+k.aead.Overhead() {
			return "", fmt.Errorf("the encrypted value (key %s) is damaged", id)
		}
		n := k.aead.NonceSize()
		plain, err := k.aead.Open(nil, raw[:n], raw[n:], []byte(aad))
		if err != nil {
			return "", fmt.Errorf("the encrypted value (key %s) is damaged or was moved from another field", id)
		}
		return string(plain), nil
	}
	return "", fmt.Errorf("it was encrypted with key %s, which is not in %s (keys %s): %w",
		id, kr.source, strings.Join(kr.ids(), ", "), ErrUnknownKey)
}

func (kr *Keyring) ids() []string {
	out := make([]string, len(kr.keys))
	for i, k := range kr.keys {
		out[i] = k.id
	}
	return out
}

// split cuts a sealed value into its key id and body.
func split(stored string) (id, body string, ok bool) {
	rest, ok := strings.CutPrefix(stored, prefix)
	if !ok {
		return "", "", false
	}
	id, body, ok = strings.Cut(rest, "$")
	if !ok || len(id) != 8 || body == "" {
		return "", "", false
	}
	return id, body, true
}
