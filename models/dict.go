package models

import (
	"bytes"
	"encoding/json"
)

// Dict is a string-keyed map that keeps insertion order, like a Python dict.
// Odoo clients see field order in fields_get and read results; a Go map
// would shuffle it. Codecs consume it through Range and MarshalJSON.
type Dict struct {
	keys []string
	vals map[string]any
}

// NewDict returns an empty Dict sized for n keys.
func NewDict(n int) *Dict { return &Dict{keys: make([]string, 0, n), vals: make(map[string]any, n)} }

// Set adds or replaces key; a new key goes last.
func (d *Dict) Set(key string, v any) {
	if _, ok := d.vals[key]; !ok {
		d.keys = append(d.keys, key)
	}
	d.vals[key] = v
}

// Get returns the value under key.
func (d *Dict) Get(key string) (any, bool) { v, ok := d.vals[key]; return v, ok }

// Len is the number of keys.
func (d *Dict) Len() int { return len(d.keys) }

// Keys returns the keys in order.
func (d *Dict) Keys() []string { return d.keys }

// Range calls fn for each key in order until fn returns false.
func (d *Dict) Range(fn func(key string, v any) bool) {
	for _, k := range d.keys {
		if !fn(k, d.vals[k]) {
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
		vb, err := json.Marshal(d.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
