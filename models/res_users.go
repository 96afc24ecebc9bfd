package models

func resGroups() *Model {
	return &Model{
		Name: "res.groups", Description: "Access Groups",
		Fields: []*Field{
			{Name: "name", Type: Char, String: "Name", Required: true},
			{Name: "xml_id", Type: Char, String: "External ID", Readonly: true, Unique: true},
			{Name: "users", Type: Many2many, Relation: "res.users", String: "Users"},
		},
		Access:          map[string]string{GroupUser: "r", GroupSystem: "rwcu"},
		InvalidatesAuth: true,
	}
}

func resUsers() *Model {
	return &Model{
		Name: "res.users", Description: "User", Order: "name, login",
		Fields: []*Field{
			{Name: "name", Type: Char, Required: true},
			{Name: "login", Type: Char, Required: true, Unique: true, Help: "Used to log into the system"},
			{Name: "password", Type: Char, Secret: true, NoCopy: true, Help: "Write-only: stored as a bcrypt hash, never returned by read"},
			{Name: "active", Type: Boolean, Default: Constant(true)},
			{Name: "groups_id", Type: Many2many, Relation: "res.groups", String: "Groups"},
			{Name: "lang", Type: Char, String: "Language", Default: Constant("en_US")},
			{Name: "tz", Type: Char, String: "Timezone"},
			{Name: "email", Type: Char},
			{Name: "login_date", Type: Datetime, String: "Latest authentication", Readonly: true, NoCopy: true},
			{Name: "api_key_ids", Type: One2many, Relation: "res.users.apikeys", InverseName: "user_id", String: "API Keys", NoCopy: true},
		},
		Access:          map[string]string{GroupUser: "r", GroupSystem: "rwcu"},
		InvalidatesAuth: true,
		Prepare:         prepareUser,
		BeforeUnlink:    refuseBuiltinUsers,
		Methods: map[string]*Method{
			"context_get":     {Kind: ModelLevel, ReadOnly: true, Fn: userContextGet},
			"change_password": {Kind: ModelLevel, Params: []Param{{Name: "old_passwd"}, {Name: "new_passwd"}}, Fn: userChangePassword},
		},
	}
}

// prepareUser hashes a new password; an empty one leaves it unchanged
// (Odoo's behaviour when the field is blank in a form).
func prepareUser(env *Env, vals map[string]any, create bool) error {
	pw, given := vals["password"]
	if !given {
		return nil
	}
	s, _ := pw.(string)
	if s == "" {
		delete(vals, "password")
		return nil
	}
	h, err := hashPassword(s, env.reg.hashCost)
	if err != nil {
		return Internal("hash password", err)
	}
	vals["password"] = h
	return nil
}

func refuseBuiltinUsers(env *Env, ids []int64) error {
	for _, id := range ids {
		if id == Superuser || id == AdminUID {
			return UserErrorf("You can not remove the admin user as it is used internally for resources created by Odoo (updates, module installation, ...)")
		}
	}
	return nil
}

func userContextGet(env *Env, _ []int64, _ Args) (any, error) {
	return env.reg.UserContext(env.Ctx, env.UID)
}

// userChangePassword lets any user change their own password given the
// old one, as Odoo's res.users.change_password.
func userChangePassword(env *Env, _ []int64, a Args) (any, error) {
	oldPw, _ := a.Get("old_passwd").(string)
	newPw, _ := a.Get("new_passwd").(string)
	if newPw == "" {
		return nil, UserErrorf("Setting empty passwords is not allowed for security reasons!")
	}
	u, err := env.reg.loadCreds(env.Ctx, `"id" = ?`, env.UID)
	if err != nil {
		return nil, err
	}
	if u == nil || !checkPassword(u.Password, oldPw) {
		return nil, ErrAccessDenied
	}
	if err := env.Sudo().update(env.reg.Model("res.users"), []int64{env.UID}, map[string]any{"password": newPw}); err != nil {
		return nil, err
	}
	return true, nil
}

func resUsersAPIKeys() *Model {
	return &Model{
		Name: "res.users.apikeys", Description: "Users API Keys", Order: "id",
		Fields: []*Field{
			{Name: "name", Type: Char, String: "Description", Required: true, Readonly: true},
			{Name: "user_id", Type: Many2one, Relation: "res.users", Required: true, Readonly: true, OnDelete: "cascade"},
			{Name: "scope", Type: Char, Readonly: true},
			{Name: "index", Type: Char, Size: apiKeyIndexLen, Readonly: true, Index: true, Secret: true},
			{Name: "key", Type: Char, Readonly: true, Secret: true},
			// Odoo 19: a key past its expiration date is refused (401 on
			// JSON-2, AccessDenied elsewhere); empty means it never expires.
			{Name: "expiration_date", Type: Datetime, String: "Expiration Date", Readonly: true},
		},
		// Keys are made by generate (which shows the key once); users may
		// list and revoke their own.
		Access:          map[string]string{GroupUser: "ru", GroupSystem: "ru"},
		InvalidatesAuth: true,
		Rules: func(env *Env) []any {
			return []any{[]any{"user_id", "=", env.UID}}
		},
		Methods: map[string]*Method{
			"generate": {Kind: ModelLevel, Params: []Param{{Name: "name"}, {Name: "scope", Optional: true}, {Name: "expiration_date", Optional: true}},
				Fn: func(env *Env, _ []int64, a Args) (any, error) {
					name, _ := a.Get("name").(string)
					scope, _ := a.Get("scope").(string)
					exp, err := expirationArg(a.Get("expiration_date"))
					if err != nil {
						return nil, err
					}
					return GenerateAPIKey(env, name, scope, exp)
				}},
		},
	}
}

func irConfigParameter() *Model {
	return &Model{
		Name: "ir.config_parameter", Description: "System Parameter", Order: "key", RecName: "key",
		Fields: []*Field{
			{Name: "key", Type: Char, Required: true, Unique: true},
			{Name: "value", Type: Text, Required: true},
		},
		Access: map[string]string{GroupSystem: "rwcu"},
	}
}
