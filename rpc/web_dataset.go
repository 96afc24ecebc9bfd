package rpc

import (
	"maps"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// The /web/dataset/* routes: ORM calls from a logged-in web session
// (odoo/addons/web/controllers/dataset.py, §2.4, §2.5).

// webCallKw is /web/dataset/call_kw[/<anything>]: model, method, args and
// kwargs are all required. The ORM context is kwargs.context alone
// (models.Execute pops it), as in Odoo where it replaces the session's.
func webCallKw(s *server, c *jsonCall) (any, error) {
	args, ok := c.params["args"].([]any)
	if !ok {
		return nil, models.TypeErrorf("call_kw() args must be a list, not %s", py.TypeName(c.params["args"]))
	}
	var kwargs map[string]any
	switch kw := c.params["kwargs"].(type) {
	case nil:
	case map[string]any:
		kwargs = kw
	default:
		return nil, models.TypeErrorf("call_kw() kwargs must be a dict, not %s", py.TypeName(kw))
	}
	return s.execute(c.r.Context(), c.session.UID, c.params["model"], c.params["method"], args, kwargs)
}

// webCallButton is /web/dataset/call_button: a button's result reaches the
// client only when it is an action, i.e. a dict with a non-empty "type";
// anything else becomes false.
func webCallButton(s *server, c *jsonCall) (any, error) {
	res, err := webCallKw(s, c)
	if err != nil {
		return nil, err
	}
	return buttonResult(res), nil
}

// buttonResult keeps res if it is an action dict, else returns false.
func buttonResult(res any) any {
	var typ any
	switch d := res.(type) {
	case map[string]any:
		typ = d["type"]
	case *models.Dict:
		if d != nil {
			typ, _ = d.Get("type")
		}
	}
	if t, ok := typ.(string); ok && t != "" {
		return res
	}
	return false
}

// webSearchRead is /web/dataset/search_read (16 only): the model's
// web_search_read with sort renamed order. Unlike call_kw it runs with the
// request context: the user's context updated with params.context.
func webSearchRead(s *server, c *jsonCall) (any, error) {
	ctx := c.r.Context()
	uc, err := s.reg.UserContext(ctx, c.session.UID)
	if err != nil {
		return nil, err
	}
	odooCtx := map[string]any{}
	maps.Copy(odooCtx, uc)
	maps.Copy(odooCtx, c.context)
	kwargs := map[string]any{
		"domain":  orDefault(c.params, "domain", []any{}),
		"fields":  orDefault(c.params, "fields", false),
		"offset":  orDefault(c.params, "offset", int64(0)),
		"limit":   orDefault(c.params, "limit", false),
		"order":   orDefault(c.params, "sort", false),
		"context": odooCtx,
	}
	return s.execute(ctx, c.session.UID, c.params["model"], "web_search_read", nil, kwargs)
}

// orDefault is params[key], or def when it is missing or null (the
// controller's Python defaults).
func orDefault(params map[string]any, key string, def any) any {
	if v, ok := params[key]; ok && v != nil {
		return v
	}
	return def
}
