package models

import (
	"bytes"
	"encoding/json"
)

// Dict is a string-keyed map that keeps insertion order, like a Python dict.
// Odoo clients see field order in fields_get and read results; a Go map
// would shuffle it. Codecs consume it through Range and MarshalJSON. A
// record has a dozen keys, so two parallel slices with a linear lookup beat
// a map, and cost one allocation less per record.
type Dict struct {
	keys []string
	vals []any
}

// NewDict returns an empty Dict sized for n keys.
func NewDict(n int) *Dict { return &Dict{keys: make([]string, 0, n), vals: make([]any, 0, n)} }

func (d *Dict) index(key string) int {
	for i, k := range d.keys {
		if k == key {
			return i
		}
	}
	return -1
}

// Set adds or replaces key; a new key goes last.
func (d *Dict) Set(key string, v any) {
	if i := d.index(key); i >= 0 {
		d.vals[i] = v
		return
	}
	d.keys = append(d.keys, key)
	d.vals = append(d.vals, v)
}

// Get returns the value under key.
func (d *Dict) Get(key string) (any, bool) {
	if i := d.index(key); i >= 0 {
		return d.vals[i], true
	}
	return nil, false
}

// Len is the number of keys.
func (d *Dict) Len() int { return len(d.keys) }

// Keys returns the keys in order.
func (d *Dict) Keys() []string { return d.keys }

// Range calls fn for each key in order until fn returns false.
func (d *Dict) Range(fn func(key string, v any) bool) {
	for i, k := range d.keys {
		if !fn(k, d.vals[i]) {
			return
		}
	}
}

// MarshalJSON writes the keys in order.
func (d *Dict) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range d.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(d.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
