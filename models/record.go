package models

import "time"

// Record is one loaded row: canonical column values keyed by field name.
// Compute functions and constraints receive records.
type Record struct {
	Model *Model
	ID    int64
	vals  map[string]any
	errs  map[string]error // fields whose stored value could not be loaded
}

// LoadError says why a field's stored value could not be loaded (an
// Encrypted value that this server's key does not decrypt); the field
// then reads as empty. nil when it loaded.
func (r *Record) LoadError(name string) error { return r.errs[name] }

func (r *Record) setLoadError(name string, err error) {
	if r.errs == nil {
		r.errs = map[string]error{}
	}
	r.errs[name] = err
}

// Get returns the canonical value of a stored field (nil for NULL).
func (r *Record) Get(name string) any { return r.vals[name] }

// Str returns a char/text/selection field or "".
func (r *Record) Str(name string) string { s, _ := r.vals[name].(string); return s }

// Int returns an integer or many2one id field, 0 when empty.
func (r *Record) Int(name string) int64 { n, _ := r.vals[name].(int64); return n }

// Float returns a float field, 0 when empty.
func (r *Record) Float(name string) float64 { x, _ := r.vals[name].(float64); return x }

// Bool returns a boolean field.
func (r *Record) Bool(name string) bool { b, _ := r.vals[name].(bool); return b }

// Time returns a datetime field (zero when empty).
func (r *Record) Time(name string) time.Time { t, _ := r.vals[name].(time.Time); return t }

// Bytes returns a binary field.
func (r *Record) Bytes(name string) []byte { b, _ := r.vals[name].([]byte); return b }
