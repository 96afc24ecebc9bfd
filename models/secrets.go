package models

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Cipher encrypts the values of Encrypted fields before they reach the
// database and decrypts them when records are loaded, so that a database
// copied without the server's key yields no secret. The engine knows only
// this interface; the server gives it a keyring (Options.Cipher).
type Cipher interface {
	// Seal encrypts plaintext. aad ("model.field") binds the result to
	// the column it is stored in.
	Seal(aad, plaintext string) (string, error)
	// Open decrypts a value Seal returned; the error says why it cannot
	// (a key this server does not have, a damaged value).
	Open(aad, sealed string) (string, error)
	// Sealed reports whether a stored value is in Seal's form (otherwise
	// it is plaintext written before encryption was turned on), and
	// whether the key Seal uses now sealed it.
	Sealed(stored string) (sealed, current bool)
}

// aad is what a field's sealed values are bound to.
func (f *Field) aad() string { return f.model.Name + "." + f.Name }

// seal encrypts the column parameter of an Encrypted field. Without a
// cipher (engine tests, tools) values are stored as given.
func (r *Registry) seal(f *Field, dv any) (any, error) {
	s, ok := dv.(string)
	if !ok || s == "" || r.cipher == nil {
		return dv, nil
	}
	out, err := r.cipher.Seal(f.aad(), s)
	if err != nil {
		return nil, Internal("encrypt "+f.aad(), err)
	}
	return out, nil
}

// open decrypts a loaded value of an Encrypted field. Plaintext from
// before encryption passes (Init encrypts it at start); a value that does
// not decrypt loads as nil, with the error kept on the record.
func (r *Registry) open(f *Field, v any) (any, error) {
	s, ok := v.(string)
	if !ok || s == "" || r.cipher == nil {
		return v, nil
	}
	if sealed, _ := r.cipher.Sealed(s); !sealed {
		return v, nil
	}
	plain, err := r.cipher.Open(f.aad(), s)
	if err != nil {
		return nil, fmt.Errorf("%s cannot be decrypted: %w", f.label(), err)
	}
	return plain, nil
}

// SecretsReport says what SealSecrets or ResealSecrets found and did.
type SecretsReport struct {
	Sealed     int      // values written encrypted with the current key
	Unreadable []string // "model(id).field: why" of values no key opens
}

// SealSecrets encrypts the values of Encrypted fields still stored in
// plaintext (written before encryption, or by a registry without a
// cipher), in one transaction. Values it cannot decrypt are reported, not
// changed: they stay unusable until entered again or their key is back.
func (r *Registry) SealSecrets(ctx context.Context) (SecretsReport, error) {
	return r.sealAll(ctx, false)
}

// ResealSecrets encrypts every value of an Encrypted field that is not
// sealed with the cipher's current key (plaintext, or an older key the
// cipher still opens) with the current key, in one transaction: key
// rotation. When a value does not decrypt it changes nothing and returns
// an error naming each such value.
func (r *Registry) ResealSecrets(ctx context.Context) (SecretsReport, error) {
	return r.sealAll(ctx, true)
}

func (r *Registry) sealAll(ctx context.Context, rotate bool) (SecretsReport, error) {
	var rep SecretsReport
	if r.cipher == nil {
		return rep, nil
	}
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, m := range r.Models() {
			for _, f := range m.StoredFields() {
				if !f.Encrypted {
					continue
				}
				if err := r.sealColumn(tx, f, rotate, &rep); err != nil {
					return err
				}
			}
		}
		if rotate && len(rep.Unreadable) > 0 {
			return fmt.Errorf("models: %d stored secrets cannot be decrypted, so they cannot be encrypted again; nothing was changed. "+
				"Add the key they were written with, or enter them again (or clear them), then retry:\n  %s",
				len(rep.Unreadable), strings.Join(rep.Unreadable, "\n  "))
		}
		return nil
	})
	if err != nil {
		return SecretsReport{Unreadable: rep.Unreadable}, err
	}
	return rep, nil
}

// sealColumn seals one Encrypted column's values that need it. Each
// update only applies if the value is still the one read, so two
// instances starting together cannot overwrite each other's work.
func (r *Registry) sealColumn(tx *gorm.DB, f *Field, rotate bool, rep *SecretsReport) error {
	m := f.model
	type row struct {
		ID    int64
		Value string
	}
	var rows []row
	q := `SELECT "id" AS id, ` + quote(f.Name) + ` AS value FROM ` + quote(m.Table) + ` WHERE ` + quote(f.Name) + ` IS NOT NULL AND ` + quote(f.Name) + ` <> '' ORDER BY "id"`
	if err := tx.Raw(q).Scan(&rows).Error; err != nil {
		return fmt.Errorf("models: read %s: %w", f.aad(), err)
	}
	for _, rw := range rows {
		plain := rw.Value
		sealed, current := r.cipher.Sealed(rw.Value)
		if sealed {
			var err error
			if plain, err = r.cipher.Open(f.aad(), rw.Value); err != nil {
				rep.Unreadable = append(rep.Unreadable, fmt.Sprintf("%s(%d).%s: %v", m.Name, rw.ID, f.Name, err))
				continue
			}
			if current || !rotate {
				continue
			}
		}
		out, err := r.cipher.Seal(f.aad(), plain)
		if err != nil {
			return fmt.Errorf("models: encrypt %s: %w", f.aad(), err)
		}
		res := tx.Exec(`UPDATE `+quote(m.Table)+` SET `+quote(f.Name)+` = ? WHERE "id" = ? AND `+quote(f.Name)+` = ?`, out, rw.ID, rw.Value)
		if res.Error != nil {
			return fmt.Errorf("models: store %s: %w", f.aad(), res.Error)
		}
		rep.Sealed += int(res.RowsAffected)
	}
	return nil
}

// sealAtStart is Init's step: plaintext secrets get encrypted, and values
// that no key opens are logged once (they read as empty until entered
// again).
func (r *Registry) sealAtStart(ctx context.Context) error {
	rep, err := r.SealSecrets(ctx)
	if err != nil {
		return err
	}
	if rep.Sealed > 0 {
		r.log.Info("Encrypted stored secrets that were in plaintext", "count", rep.Sealed)
	}
	if len(rep.Unreadable) > 0 {
		r.log.Warn("Stored secrets cannot be decrypted with this server's secret key: restore the key they were written with, or enter them again",
			"count", len(rep.Unreadable), "secrets", strings.Join(rep.Unreadable, "; "))
	}
	return nil
}
