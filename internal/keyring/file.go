package keyring

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// fileHeader opens every key file the server writes.
const fileHeader = `# odoo-iot-mqtt secret key file. It decrypts the broker passwords, TLS keys
# and websocket headers stored in the database: back it up, apart from the
# database backups, and restore it with them. Without it those secrets are
# lost (enter them again). The first key encrypts; any others only decrypt
# (an interrupted rotate-key leaves two). Change it with: odoo-iot-mqtt rotate-key
`

// LoadFile reads the key file at path. A missing file is an error that
// matches fs.ErrNotExist.
func LoadFile(path string) (*Keyring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: read the key file: %w", err)
	}
	return Parse("key file "+path, string(data))
}

// LoadOrCreateFile reads the key file at path, or creates it (and its
// folder) with a new key when there is none; created tells which.
func LoadOrCreateFile(path string) (kr *Keyring, created bool, err error) {
	kr, err = LoadFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return kr, false, err
	}
	k, err := NewKey()
	if err != nil {
		return nil, false, err
	}
	if kr, err = New("key file "+path, k); err != nil {
		return nil, false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("keyring: create the key file's folder: %w", err)
	}
	tmp, err := writeTemp(dir, filepath.Base(path), kr.encode())
	if err != nil {
		return nil, false, err
	}
	defer os.Remove(tmp)
	// A hard link never replaces, and the file appears whole: of two
	// servers starting at once, one writes the key and the other reads it.
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		kr, err = LoadFile(path)
		return kr, false, err
	} else if err != nil {
		return nil, false, fmt.Errorf("keyring: create the key file: %w", err)
	}
	return kr, true, syncDir(dir)
}

// WriteFile replaces the key file at path with kr's keys, atomically: a
// crash leaves the old file or the new one, never half of either.
func WriteFile(path string, kr *Keyring) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, filepath.Base(path), kr.encode())
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("keyring: write the key file: %w", err)
	}
	return syncDir(dir)
}

// writeTemp writes text, synced, to a new private file in dir and
// returns its path.
func writeTemp(dir, base, text string) (string, error) {
	f, err := os.CreateTemp(dir, "."+base+".*")
	if err != nil {
		return "", fmt.Errorf("keyring: write the key file: %w", err)
	}
	tmp := f.Name()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", fmt.Errorf("keyring: write the key file: %w", err)
	}
	if err := writeAndSync(f, text); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// encode is the key file text of kr.
func (kr *Keyring) encode() string {
	var b strings.Builder
	b.WriteString(fileHeader)
	for _, k := range kr.keys {
		b.WriteString(k.String() + "\n")
	}
	return b.String()
}

func writeAndSync(f *os.File, text string) error {
	_, err := f.WriteString(text)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("keyring: write the key file: %w", err)
	}
	return nil
}

// syncDir makes a created or renamed file's directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("keyring: sync the key file's folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("keyring: sync the key file's folder: %w", err)
	}
	return nil
}
