package models

import (
	"context"
	"crypto/rand"
	"math/big"
)

// Init prepares a migrated database for use: the session secret, the
// groups, the built-in users and the ir.model tables; then it encrypts
// secrets still stored in plaintext (SealSecrets). On a new database it
// creates user admin with adminPassword, or with a generated password that
// it returns so the caller can show it once.
func (r *Registry) Init(ctx context.Context, adminPassword string) (generated string, err error) {
	if err := r.loadSecret(ctx); err != nil {
		return "", err
	}
	err = r.Transaction(ctx, 0, nil, func(env *Env) error {
		su := env.Sudo()
		groupIDs := map[string]int64{}
		mGroups := r.Model("res.groups")
		for _, g := range r.groupsInOrder() {
			key := g.Key
			var ids []int64
			if err := su.DB().Raw(`SELECT "id" FROM "res_groups" WHERE "xml_id" = ?`, key).Scan(&ids).Error; err != nil {
				return Internal("read groups", err)
			}
			if len(ids) > 0 {
				groupIDs[key] = ids[0]
				continue
			}
			id, err := su.insert(mGroups, map[string]any{"name": g.Name, "xml_id": key})
			if err != nil {
				return err
			}
			groupIDs[key] = id
		}
		var n int64
		if err := su.DB().Raw(`SELECT COUNT(*) FROM "res_users"`).Scan(&n).Error; err != nil {
			return Internal("count users", err)
		}
		if n == 0 {
			mUsers := r.Model("res.users")
			if _, err := su.insert(mUsers, map[string]any{"name": "OdooBot", "login": "__system__", "active": false}); err != nil {
				return err
			}
			pw := adminPassword
			if pw == "" {
				if generated, err = randomPassword(20); err != nil {
					return Internal("generate password", err)
				}
				pw = generated
			}
			if _, err := su.insert(mUsers, map[string]any{
				"name": "Administrator", "login": "admin", "password": pw,
				"groups_id": []any{[]any{int64(6), int64(0), []any{groupIDs[GroupSystem], groupIDs[GroupUser]}}},
			}); err != nil {
				return err
			}
		}
		return env.syncIrModel()
	})
	if err == nil {
		err = r.sealAtStart(ctx)
	}
	return generated, err
}

func randomPassword(n int) (string, error) {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
}
