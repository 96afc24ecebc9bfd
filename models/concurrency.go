package models

import (
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// LastUpdateField is Odoo's CONCURRENCY_CHECK_FIELD: a computed datetime
// on every model, and the context key under which a client passes the
// values it saw ({"model,id": "YYYY-MM-DD HH:MM:SS"}) to have write and
// unlink refuse records changed since.
const LastUpdateField = "__last_update"

// lastUpdateField is the field every model gets, as Odoo 16's
// _add_magic_fields adds it: "Last Modified on", computed from write_date,
// else create_date, else now.
func lastUpdateField() *Field {
	return &Field{Name: LastUpdateField, Type: Datetime, String: "Last Modified on", Readonly: true, NotStored: true,
		Compute: lastUpdate, Depends: []string{"create_date", "write_date"}}
}

func lastUpdate(_ *Env, rec *Record) (any, error) {
	for _, name := range []string{"write_date", "create_date"} {
		if t := rec.Time(name); !t.IsZero() {
			return t, nil
		}
	}
	return time.Now().UTC().Truncate(time.Second), nil
}

// checkConcurrency is Odoo's _check_concurrency, run by write and unlink:
// when the context holds __last_update stamps for some of ids, a record
// written (or created) after the stamp its client saw is refused with a
// ValidationError naming the first such record.
func (e *Env) checkConcurrency(m *Model, ids []int64) error {
	stamps, _ := e.Context[LastUpdateField].(map[string]any)
	if len(stamps) == 0 || len(ids) == 0 {
		return nil
	}
	seen := map[int64]time.Time{}
	var check []int64 // in the order of ids
	for _, id := range ids {
		v, ok := stamps[m.Name+","+itoa(id)]
		if !ok || !py.Truthy(v) {
			continue
		}
		s, isStr := v.(string)
		t, err := parseDatetime(s)
		if !isStr || err != nil {
			return ValueErrorf("Invalid %s value %s for %s(%d,): want YYYY-MM-DD HH:MM:SS", LastUpdateField, py.Repr(v), m.Name, id)
		}
		seen[id] = t
		check = append(check, id)
	}
	if len(check) == 0 {
		return nil
	}
	recs, err := e.load(m, check, []*Field{m.Field("create_date"), m.Field("write_date")})
	if err != nil {
		return err
	}
	for _, r := range recs {
		if last, _ := lastUpdate(e, r); seen[r.ID].Before(last.(time.Time)) {
			return ValidationErrorf("A document was modified since you last viewed it (%s:%d)", m.Description, r.ID)
		}
	}
	return nil
}
