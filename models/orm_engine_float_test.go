package models

import (
	"encoding/json"
	"math"
	"testing"
)

// TestEngineRefusesNonFiniteFloats: NaN and ±Infinity never reach a float
// column, whichever way a client spells them: a float64 (XML-RPC's
// <double>nan</double>, or a JSON number out of range, which decodes to
// ±Inf), or a numeric string ParseFloat would read ("nan", "Infinity").
// create, write and SetColumns refuse them with a ValidationError naming
// the field, and nothing is stored. Finite values, huge ones included,
// still go through; a char field given a non-finite number stores
// Python's str() of it.
func TestEngineRefusesNonFiniteFloats(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		order := r.Model("test.order")
		bad := []struct {
			what string
			v    any
		}{
			{"NaN", math.NaN()},
			{"+Inf", math.Inf(1)},
			{"-Inf", math.Inf(-1)},
			{"string nan", "nan"},
			{"string NaN", " NaN "},
			{"string inf", "inf"},
			{"string -Infinity", "-Infinity"},
			{"string 1e400", "1e400"},
		}
		for _, c := range bad {
			t.Run(c.what, func(t *testing.T) {
				savepoint(t, env, func() {
					_, err := env.tcreate("test.order", map[string]any{"name": "nf", "amount": c.v})
					wantErr(t, "create", err, KindValidation, "amount", "finite")
				})
				savepoint(t, env, func() {
					err := env.Write(order, []int64{f.order}, map[string]any{"amount": c.v})
					wantErr(t, "write", err, KindValidation, "amount", "finite")
				})
				savepoint(t, env, func() {
					_, err := env.SetColumns(order, []int64{f.order}, map[string]any{"amount": c.v})
					wantErr(t, "set columns", err, KindValidation, "amount", "finite")
				})
			})
		}
		recs, err := env.Load(order, []int64{f.order}, "amount")
		if err != nil || len(recs) != 1 {
			t.Fatalf("load: %v", err)
		}
		if a := recs[0].Float("amount"); math.IsNaN(a) || math.IsInf(a, 0) {
			t.Errorf("amount stored as %v", a)
		}

		for _, v := range []any{math.MaxFloat64, 5e-324, "1e300", int64(7)} {
			savepoint(t, env, func() {
				if err := env.Write(order, []int64{f.order}, map[string]any{"amount": v}); err != nil {
					t.Errorf("write amount %v: %v", v, err)
				}
			})
		}
		for _, c := range []struct {
			v    float64
			want string
		}{{math.NaN(), "nan"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}} {
			v, want := c.v, c.want
			savepoint(t, env, func() {
				id, err := env.tcreate("test.order", map[string]any{"name": "nf", "note": v})
				if err != nil {
					t.Fatalf("create note %v: %v", v, err)
				}
				recs, err := env.Load(order, []int64{id}, "note")
				if err != nil || len(recs) != 1 || recs[0].Str("note") != want {
					t.Errorf("note of %v = %v (%v), want %q", v, recs, err, want)
				}
			})
		}
	})
}

// TestEngineReadsStoredNonFiniteFloats: a NaN or infinity stored before
// they were refused (PostgreSQL keeps them; SQLite turns NaN into NULL)
// reads as a NULL float does, 0.0 as in Odoo, so JSON, which cannot carry them, can still encode
// every read of the model.
func TestEngineReadsStoredNonFiniteFloats(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			if err := env.DB().Exec(`UPDATE "test_order" SET "amount" = ? WHERE "id" = ?`, v, f.order).Error; err != nil {
				t.Fatalf("store %v: %v", v, err)
			}
			rows, err := env.Read(r.Model("test.order"), []int64{f.order}, []string{"amount"}, "_classic_read")
			if err != nil || len(rows) != 1 {
				t.Fatalf("read after storing %v: %v %v", v, rows, err)
			}
			if got, _ := rows[0].Get("amount"); got != 0.0 {
				t.Errorf("amount stored as %v reads %#v, want 0.0 (a NULL float)", v, got)
			}
			if _, err := json.Marshal(rows); err != nil {
				t.Errorf("JSON of the read after storing %v: %v", v, err)
			}
		}
	})
}
