package models

import (
	"context"
	"reflect"
	"testing"
)

// TestSessionInfoOdooKeys: session_info carries the keys Odoo 16 with the
// addon's modules (web, mail, mail_bot, partner_autocomplete, web_tour)
// returns, with a fresh database's values: web_tour's only for
// administrators, as Odoo gives them.
func TestSessionInfoOdooKeys(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *Registry) {
		ctx := context.Background()
		var plain int64
		if err := r.Transaction(ctx, Superuser, nil, func(env *Env) error {
			plain = makeUser(t, env, "plain", GroupUser)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		internal := map[string]any{
			"notification_type": "email", "odoobot_initialized": false, "iap_company_enrich": false,
			"profile_session": nil, "profile_collectors": nil, "profile_params": nil,
		}
		cases := []struct {
			name  string
			uid   int64
			tours bool
		}{
			{"administrator", AdminUID, true},
			{"internal user", plain, false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				d, err := r.SessionInfo(ctx, c.uid, "db", map[string]any{})
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]any{"user_id": c.uid}
				for k, v := range internal {
					want[k] = v
				}
				if c.tours {
					want["web_tours"], want["tour_disable"] = []any{}, false
				}
				got := map[string]any{}
				for _, k := range []string{"user_id", "notification_type", "odoobot_initialized", "iap_company_enrich",
					"profile_session", "profile_collectors", "profile_params", "web_tours", "tour_disable"} {
					if v, ok := d.Get(k); ok {
						got[k] = v
					}
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("session_info keys = %#v\nwant %#v", got, want)
				}
			})
		}
	})
}
