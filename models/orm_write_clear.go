package models

import (
	"reflect"
	"sort"
)

// clearOnChange finds, for each field with ClearOnChange that the write p
// does not set, the records of ids on which p changes one of the fields
// it names: the field is cleared there (Field.ClearOnChange). A value
// written equal to the stored one is no change, so a client that sends
// the whole record back keeps its secrets.
func (e *Env) clearOnChange(m *Model, ids []int64, p *prepared) (map[string][]int64, error) {
	var targets []*Field
	watched := map[string]bool{}
	for _, f := range m.Fields {
		if len(f.ClearOnChange) == 0 {
			continue
		}
		if _, given := p.cols[f.Name]; given {
			continue
		}
		hit := false
		for _, w := range f.ClearOnChange {
			if _, ok := p.cols[w]; ok {
				hit, watched[w] = true, true
			}
		}
		if hit {
			targets = append(targets, f)
		}
	}
	if len(targets) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(watched))
	for w := range watched {
		names = append(names, w)
	}
	sort.Strings(names)
	fields := make([]*Field, len(names))
	for i, w := range names {
		fields[i] = m.Field(w)
	}
	recs, err := e.load(m, ids, fields)
	if err != nil {
		return nil, err
	}
	out := map[string][]int64{}
	for _, r := range recs {
		for _, f := range targets {
			for _, w := range f.ClearOnChange {
				dv, given := p.cols[w]
				if given && !sameValue(m.Field(w), r.vals[w], dv) {
					out[f.Name] = append(out[f.Name], r.ID)
					break
				}
			}
		}
	}
	return out, nil
}

// sameValue reports whether a stored canonical value and a column
// parameter about to be written read the same.
func sameValue(f *Field, stored, dv any) bool {
	return reflect.DeepEqual(f.toRead(stored), f.toRead(f.normalizeDB(dv)))
}

// applyClears empties the fields clearOnChange found, after the write's
// own UPDATE, and returns their names for the change hooks.
func (e *Env) applyClears(m *Model, clear map[string][]int64) ([]string, error) {
	names := make([]string, 0, len(clear))
	for name := range clear {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := e.updateColumns(m, clear[name], map[string]any{name: nil}); err != nil {
			return nil, err
		}
	}
	return names, nil
}
