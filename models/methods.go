package models

import "github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"

// genericMethods are the ORM methods every model answers over RPC, with
// Odoo 16's signatures (odoo-rpc.md §3.2). A model's own Methods take
// precedence over these.
var genericMethods = map[string]*Method{}

func init() {
	opt := func(name string, def any) Param { return Param{Name: name, Optional: true, Default: def} }
	req := func(name string) Param { return Param{Name: name} }
	add := func(name string, kind MethodKind, fn func(env *Env, ids []int64, a Args) (any, error), params ...Param) {
		genericMethods[name] = &Method{Kind: kind, Params: params, Fn: fn}
	}
	defer func() {
		for _, name := range []string{"search", "search_count", "search_read", "web_search_read", "read", "exists",
			"fields_get", "fields_get_keys", "name_get", "name_search", "default_get", "check_access_rights",
			"read_group", "get_metadata"} {
			genericMethods[name].ReadOnly = true
		}
	}()
	add("search", ModelLevel, methodSearch, req("domain"), opt("offset", int64(0)), opt("limit", nil), opt("order", nil), opt("count", false))
	add("search_count", ModelLevel, methodSearchCount, req("domain"), opt("limit", nil))
	add("search_read", ModelLevel, methodSearchRead, opt("domain", nil), opt("fields", nil), opt("offset", int64(0)), opt("limit", nil), opt("order", nil), opt("load", "_classic_read"))
	add("web_search_read", ModelLevel, methodWebSearchRead, req("domain"), req("fields"), opt("offset", int64(0)), opt("limit", nil), opt("order", nil), opt("count_limit", nil))
	add("read", RecordLevel, methodRead, opt("fields", nil), opt("load", "_classic_read"))
	add("create", ModelLevel, methodCreate, req("vals_list"))
	add("write", RecordLevel, methodWrite, req("vals"))
	add("unlink", RecordLevel, methodUnlink)
	add("copy", RecordLevel, methodCopy, opt("default", nil))
	add("exists", RecordLevel, methodExists)
	add("fields_get", ModelLevel, methodFieldsGet, opt("allfields", nil), opt("attributes", nil))
	add("fields_get_keys", ModelLevel, methodFieldsGetKeys)
	add("name_get", RecordLevel, methodNameGet)
	domainAlias := opt("args", nil)
	domainAlias.Alias = "domain"
	add("name_search", ModelLevel, methodNameSearch, opt("name", ""), domainAlias, opt("operator", "ilike"), opt("limit", int64(100)))
	add("name_create", ModelLevel, methodNameCreate, req("name"))
	add("default_get", ModelLevel, methodDefaultGet, req("fields_list"))
	add("check_access_rights", ModelLevel, methodCheckAccessRights, req("operation"), opt("raise_exception", true))
	add("read_group", ModelLevel, methodReadGroup, req("domain"), req("fields"), req("groupby"), opt("offset", int64(0)), opt("limit", nil), opt("orderby", false), opt("lazy", true))
	add("get_metadata", RecordLevel, methodGetMetadata)
	add("action_archive", RecordLevel, func(env *Env, ids []int64, a Args) (any, error) { return setActive(env, ids, false) })
	add("action_unarchive", RecordLevel, func(env *Env, ids []int64, a Args) (any, error) { return setActive(env, ids, true) })
	add("toggle_active", RecordLevel, methodToggleActive)
}

// intArg reads an optional integer argument where False/None/0 mean "not
// given" (Odoo clients send limit=False, limit=0 and offset=False).
func intArg(a Args, name string) (int64, error) {
	v := a.Get(name)
	if py.IsFalse(v) {
		return 0, nil
	}
	n, ok := py.Int(v)
	if !ok || n < 0 {
		return 0, ValueErrorf("%s must be a non-negative integer, not %s", name, py.Repr(v))
	}
	return n, nil
}

// windowArgs reads offset and limit, where False/None/0 mean "from the
// start" and "no limit".
func windowArgs(a Args) (offset, limit int64, err error) {
	if offset, err = intArg(a, "offset"); err != nil {
		return 0, 0, err
	}
	limit, err = intArg(a, "limit")
	return offset, limit, err
}

// strArg reads an optional string argument where False/None mean "".
func strArg(a Args, name string) (string, error) {
	v := a.Get(name)
	if py.IsFalse(v) {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", ValueErrorf("%s must be a string, not %s", name, py.Repr(v))
	}
	return s, nil
}

// namesArg reads a list of field names (None/False/[] = all).
func namesArg(a Args, name string) ([]string, error) {
	v := a.Get(name)
	if py.IsFalse(v) {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		return []string{s}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, ValueErrorf("%s must be a list of field names", name)
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, ValueErrorf("%s must be a list of field names, got %s", name, py.Repr(x))
		}
		out = append(out, s)
	}
	return out, nil
}

func methodSearch(env *Env, _ []int64, a Args) (any, error) {
	m := env.CurrentModel()
	offset, limit, err := windowArgs(a)
	if err != nil {
		return nil, err
	}
	order, err := strArg(a, "order")
	if err != nil {
		return nil, err
	}
	if !py.IsFalse(a.Get("count")) {
		return env.count(m, a.Get("domain"), limit)
	}
	return env.search(m, a.Get("domain"), offset, limit, order)
}

func methodSearchCount(env *Env, _ []int64, a Args) (any, error) {
	limit, err := intArg(a, "limit")
	if err != nil {
		return nil, err
	}
	return env.count(env.CurrentModel(), a.Get("domain"), limit)
}

// searchRead is search followed by read with load, the shape of
// search_read and web_search_read.
func (e *Env) searchRead(m *Model, a Args, load string) ([]*Dict, error) {
	offset, limit, err := windowArgs(a)
	if err != nil {
		return nil, err
	}
	order, err := strArg(a, "order")
	if err != nil {
		return nil, err
	}
	names, err := namesArg(a, "fields")
	if err != nil {
		return nil, err
	}
	fields, err := e.readableFields(m, names)
	if err != nil {
		return nil, err
	}
	// One query selects and loads: the search's WHERE already holds the
	// access rules, so no second pass over the ids is needed.
	cols, stored := selectColumns(m, columnsFor(fields), "t")
	q, args, err := e.searchSQL(m, cols, a.Get("domain"), offset, limit, order)
	if err != nil {
		return nil, err
	}
	recs, err := e.scanRecords(m, stored, q, args...)
	if err != nil {
		return nil, err
	}
	return e.format(m, recs, fields, load != classicRead)
}

func methodSearchRead(env *Env, _ []int64, a Args) (any, error) {
	return env.searchRead(env.CurrentModel(), a, loadArg(a))
}

func methodWebSearchRead(env *Env, _ []int64, a Args) (any, error) {
	m := env.CurrentModel()
	// Odoo 16's web_search_read takes no load: its search_read names
	// many2one values.
	recs, err := env.searchRead(m, a, classicRead)
	if err != nil {
		return nil, err
	}
	// Odoo 16's rule: an empty page is length 0; a full page counts,
	// unless count_limit is already reached by what the page shows.
	limit, _ := intArg(a, "limit")
	offset, _ := intArg(a, "offset")
	countLimit, _ := intArg(a, "count_limit")
	var length int64
	if len(recs) > 0 {
		length = int64(len(recs)) + offset
		full := int64(len(recs)) == limit
		limitReached := countLimit > 0 && countLimit <= length
		if limit > 0 && (full && !limitReached || env.ctxBool("force_search_count", false)) {
			if length, err = env.count(m, a.Get("domain"), countLimit); err != nil {
				return nil, err
			}
		}
	}
	d := NewDict(2)
	d.Set("length", length)
	d.Set("records", recs)
	return d, nil
}

func methodRead(env *Env, ids []int64, a Args) (any, error) {
	names, err := namesArg(a, "fields")
	if err != nil {
		return nil, err
	}
	return env.read(env.CurrentModel(), ids, names, loadArg(a))
}

// methodCreate returns an int for a dict and a list of ids for a list of
// dicts, as Odoo's model_create_multi does.
func methodCreate(env *Env, _ []int64, a Args) (any, error) {
	m := env.CurrentModel()
	switch v := a.Get("vals_list").(type) {
	case map[string]any:
		ids, err := env.create(m, []map[string]any{v})
		if err != nil {
			return nil, err
		}
		return ids[0], nil
	case []any:
		list := make([]map[string]any, 0, len(v))
		for _, x := range v {
			vals, ok := x.(map[string]any)
			if !ok {
				return nil, ValueErrorf("create expects a dict or a list of dicts, got %s", py.Repr(x))
			}
			list = append(list, vals)
		}
		return env.create(m, list)
	}
	return nil, ValueErrorf("create expects a dict or a list of dicts")
}

func methodWrite(env *Env, ids []int64, a Args) (any, error) {
	vals, ok := a.Get("vals").(map[string]any)
	if !ok {
		return nil, ValueErrorf("write expects a dict of values")
	}
	if err := env.write(env.CurrentModel(), ids, vals); err != nil {
		return nil, err
	}
	return true, nil
}

func methodUnlink(env *Env, ids []int64, _ Args) (any, error) {
	if err := env.unlink(env.CurrentModel(), ids); err != nil {
		return nil, err
	}
	return true, nil
}

// methodExists answers the ids that exist for the user: records outside
// the record rules do not (Odoo's exists ignores the rules).
func methodExists(env *Env, ids []int64, _ Args) (any, error) {
	m := env.CurrentModel()
	if err := env.checkAccess(m, OpRead); err != nil {
		return nil, err
	}
	return env.visible(m, ids)
}

func methodNameGet(env *Env, ids []int64, _ Args) (any, error) {
	m := env.CurrentModel()
	if err := env.checkAccess(m, OpRead); err != nil {
		return nil, err
	}
	if err := env.checkVisible(m, ids, OpRead); err != nil {
		return nil, err
	}
	ex, err := env.existing(m, ids)
	if err != nil {
		return nil, err
	}
	return env.nameGetPairs(m, ex)
}

// nameGetPairs returns [[id, display_name], ...] for ids, in their order,
// the result shape of name_get and name_search.
func (e *Env) nameGetPairs(m *Model, ids []int64) ([]any, error) {
	names, err := e.Sudo().displayNames(m, ids)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, []any{id, names[id]})
	}
	return out, nil
}

func methodNameSearch(env *Env, _ []int64, a Args) (any, error) {
	m := env.CurrentModel()
	name, err := strArg(a, "name")
	if err != nil {
		return nil, err
	}
	op, err := strArg(a, "operator")
	if err != nil {
		return nil, err
	}
	limit, err := intArg(a, "limit")
	if err != nil {
		return nil, err
	}
	dom := []any{}
	if extra, ok := a.Get("args").([]any); ok {
		dom = append(dom, extra...)
	}
	if !(name == "" && (op == "ilike" || op == "like" || op == "=ilike" || op == "=like")) {
		dom = append([]any{[]any{m.RecName, op, name}}, dom...)
		if len(dom) > 1 {
			dom = append([]any{"&"}, dom...)
		}
	}
	ids, err := env.search(m, dom, 0, limit, "")
	if err != nil {
		return nil, err
	}
	return env.nameGetPairs(m, ids)
}

func methodNameCreate(env *Env, _ []int64, a Args) (any, error) {
	m := env.CurrentModel()
	name, err := strArg(a, "name")
	if err != nil {
		return nil, err
	}
	f := m.Field(m.RecName)
	if f == nil || !f.Stored() || f.Compute != nil {
		return false, nil
	}
	ids, err := env.create(m, []map[string]any{{m.RecName: name}})
	if err != nil {
		return nil, err
	}
	names, err := env.Sudo().displayNames(m, ids)
	if err != nil {
		return nil, err
	}
	return []any{ids[0], names[ids[0]]}, nil
}

func methodCheckAccessRights(env *Env, _ []int64, a Args) (any, error) {
	op, _ := a.Get("operation").(string)
	codes := map[string]byte{"read": OpRead, "write": OpWrite, "create": OpCreate, "unlink": OpUnlink}
	code, ok := codes[op]
	if !ok {
		return nil, ValueErrorf("Invalid access mode %s", py.Repr(a.Get("operation")))
	}
	m := env.CurrentModel()
	if env.allowed(m, code) {
		return true, nil
	}
	if py.IsFalse(a.Get("raise_exception")) {
		return false, nil
	}
	return nil, env.checkAccess(m, code)
}

func setActive(env *Env, ids []int64, active bool) (any, error) {
	m := env.CurrentModel()
	if !m.HasActive() {
		return nil, ValueErrorf("Model %s has no active field.", m.Name)
	}
	if err := env.write(m, ids, map[string]any{"active": active}); err != nil {
		return nil, err
	}
	return true, nil
}

func methodToggleActive(env *Env, ids []int64, _ Args) (any, error) {
	m := env.CurrentModel()
	if !m.HasActive() {
		return nil, ValueErrorf("Model %s has no active field.", m.Name)
	}
	if err := env.checkAccess(m, OpWrite); err != nil {
		return nil, err
	}
	recs, err := env.load(m, ids, []*Field{m.Field("active")})
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if err := env.write(m, []int64{r.ID}, map[string]any{"active": !r.Bool("active")}); err != nil {
			return nil, err
		}
	}
	return true, nil
}
