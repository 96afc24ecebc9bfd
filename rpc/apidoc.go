package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Odoo 19's /doc: for a logged-in user (the session cookie), the models
// the user may read, their fields and the methods the user may call, each
// with an example JSON-2 request. /doc is a server-rendered page;
// /doc/<model>.json is one model's part as JSON.

const (
	docPath      = "/doc"
	docModelPath = "/doc/{file}"
)

// docMethodOp is the right a generic method needs beyond read, so the
// page does not offer what the user would be refused. Model methods need
// read here and check what they do themselves, as in Odoo.
var docMethodOp = map[string]byte{
	"create": models.OpCreate, "name_create": models.OpCreate, "copy": models.OpCreate,
	"write": models.OpWrite, "action_archive": models.OpWrite, "action_unarchive": models.OpWrite, "toggle_active": models.OpWrite,
	"unlink": models.OpUnlink,
}

// docModel is one model's documentation, the JSON of /doc/<model>.json.
type docModel struct {
	Model   string       `json:"model"`
	Name    string       `json:"name"`
	Fields  *models.Dict `json:"fields"` // fields_get's answer
	Methods []docMethod  `json:"methods"`
	Rows    []docField   `json:"-"` // the fields, for the page
}

// docField is one row of a model's field table.
type docField struct{ Name, String, Type, Relation string }

type docMethod struct {
	Name      string     `json:"name"`
	Signature string     `json:"signature"`    // name(ids, a, b=…)
	Records   bool       `json:"record_level"` // takes ids
	Params    []docParam `json:"parameters"`
	Example   docExample `json:"example"`
}

type docParam struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
	Default  any    `json:"default,omitempty"`
}

type docExample struct {
	Path    string         `json:"path"`
	Headers []string       `json:"headers"`
	Body    map[string]any `json:"body"`
	Text    string         `json:"-"` // the whole request, for the page
}

// serveDoc is GET /doc: the page of every model the user may read. No
// session sends the browser to the login page, as Odoo's auth='user'.
func (s *server) serveDoc(w http.ResponseWriter, r *http.Request) {
	sess, err := s.session(r)
	if err != nil {
		http.Redirect(w, r, "/web/login?redirect="+url.QueryEscape(docPath), http.StatusSeeOther)
		return
	}
	docs, err := s.docModels(r.Context(), sess.UID, "")
	if err != nil {
		s.docError(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := docTemplate.Execute(&buf, map[string]any{"Models": docs, "DB": s.opts.DBName}); err != nil {
		s.docError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Nothing runs on the page; the stylesheet is the admin pages'.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(buf.Bytes())
}

// serveDocModel is GET /doc/<model>.json. Without a session it answers
// JSON-2's 401 body (a script, not a browser, reads it).
func (s *server) serveDocModel(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(chi.URLParam(r, "file"), ".json")
	if !ok {
		s.writeJSON2Error(w, jsonrpc.HTTPFailure(http.StatusNotFound, jsonrpc.NameNotFound, "GET /doc/<model>.json"))
		return
	}
	sess, err := s.session(r)
	if err != nil {
		s.writeJSON2Error(w, jsonrpc.HTTPFailure(http.StatusUnauthorized, jsonrpc.NameUnauthorized, "Log in first: /doc needs a web session."))
		return
	}
	docs, err := s.docModels(r.Context(), sess.UID, name)
	if err == nil && len(docs) == 0 {
		err = &models.Error{Kind: models.KindUser, Message: "Object " + name + " doesn't exist", Err: models.ErrUnknownName}
	}
	if err != nil {
		s.writeJSON2Error(w, s.json2Failure(r.Context(), err))
		return
	}
	b, err := appendJSON(nil, docs[0], 0)
	if err != nil {
		s.writeJSON2Error(w, internalError(r.Context(), s.log, err).Failure)
		return
	}
	jsonrpc.WriteBody(w, http.StatusOK, b)
}

func (s *server) docError(w http.ResponseWriter, r *http.Request, err error) {
	f := describe(r.Context(), s.log, err).Failure
	http.Error(w, f.Message, f.HTTPStatus())
}

// docModels documents the models uid may read (only the one named by
// only, when set). Fields come from fields_get through models.Execute, so
// the page shows what a call would.
func (s *server) docModels(ctx context.Context, uid int64, only string) ([]docModel, error) {
	var out []docModel
	for _, m := range s.reg.Models() {
		if only != "" && m.Name != only {
			continue
		}
		var readable bool
		ops := map[byte]bool{}
		err := s.reg.Read(ctx, uid, nil, func(env *models.Env) error {
			readable = env.Allowed(m, models.OpRead)
			for _, op := range []byte{models.OpWrite, models.OpCreate, models.OpUnlink} {
				ops[op] = env.Allowed(m, op)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if !readable {
			if only != "" {
				return nil, models.AccessErrorf("You are not allowed to access '%s' (%s) records.", m.Description, m.Name)
			}
			continue
		}
		fields, err := s.reg.Execute(ctx, models.Call{UID: uid, Model: m.Name, Method: "fields_get",
			Kwargs: map[string]any{"attributes": []any{"string", "type", "required", "readonly", "relation", "help"}}})
		if err != nil {
			return nil, err
		}
		fm, _ := fields.(*models.Dict)
		if fm == nil {
			fm = models.NewDict(0)
		}
		d := docModel{Model: m.Name, Name: m.Description, Fields: fm}
		fm.Range(func(name string, v any) bool {
			row := docField{Name: name}
			if desc, ok := v.(*models.Dict); ok {
				row.String, row.Type, row.Relation = dictText(desc, "string"), dictText(desc, "type"), dictText(desc, "relation")
			}
			d.Rows = append(d.Rows, row)
			return true
		})
		for _, mi := range s.reg.PublicMethods(m) {
			if op, ok := docMethodOp[mi.Name]; ok && !ops[op] {
				continue
			}
			d.Methods = append(d.Methods, s.docMethod(m, mi, fm))
		}
		out = append(out, d)
	}
	return out, nil
}

// docMethod describes one method with an example request whose body has
// every required parameter (and the usual optional ones of searches).
func (s *server) docMethod(m *models.Model, mi models.MethodInfo, fields *models.Dict) docMethod {
	dm := docMethod{Name: mi.Name, Records: mi.RecordLevel}
	body := map[string]any{}
	if mi.RecordLevel {
		body["ids"] = []any{int64(1)}
	}
	for _, p := range mi.Params {
		name := p.Name
		if p.Alias != "" {
			name = p.Alias // the name Odoo 19 clients use
		}
		dm.Params = append(dm.Params, docParam{Name: name, Required: !p.Optional, Default: p.Default})
		if v, ok := exampleArg(name, fields); ok && (!p.Optional || docShownOptional[name]) {
			body[name] = v
		} else if !p.Optional {
			body[name] = nil
		}
	}
	var sig []string
	if mi.RecordLevel {
		sig = append(sig, "ids")
	}
	for _, p := range dm.Params {
		if p.Required {
			sig = append(sig, p.Name)
		} else {
			sig = append(sig, p.Name+"=…")
		}
	}
	if mi.Rest {
		sig = append(sig, "**kwargs")
	}
	dm.Signature = mi.Name + "(" + strings.Join(sig, ", ") + ")"
	path := "/json/2/" + m.Name + "/" + mi.Name
	headers := []string{"Authorization: bearer <API key>", "Content-Type: application/json", "X-Odoo-Database: " + s.opts.DBName}
	pretty, _ := json.MarshalIndent(body, "", "  ")
	text := "POST " + path + " HTTP/1.1\n" + strings.Join(headers, "\n") + "\n\n" + string(pretty)
	dm.Example = docExample{Path: path, Headers: headers, Body: body, Text: text}
	return dm
}

// docShownOptional are the optional parameters an example shows anyway:
// a search without fields or a limit is rarely what a client wants.
var docShownOptional = map[string]bool{"fields": true, "limit": true, "domain": true}

// exampleArg is a plausible value for a parameter by its Odoo name.
func exampleArg(name string, fields *models.Dict) (any, bool) {
	switch name {
	case "domain":
		return []any{}, true
	case "fields", "fields_list":
		var out []any
		for _, f := range []string{"display_name", "name", "active"} {
			if _, ok := fields.Get(f); ok {
				out = append(out, f)
			}
		}
		return out, true
	case "vals":
		return map[string]any{"name": "..."}, true
	case "vals_list":
		return []any{map[string]any{"name": "..."}}, true
	case "limit":
		return int64(5), true
	case "attributes":
		return []any{"string", "type"}, true
	case "groupby":
		return []any{"create_date:day"}, true
	case "name":
		return "", true
	case "operation":
		return "read", true
	}
	return nil, false
}

// dictText is a string attribute of a field description ("" if none).
func dictText(d *models.Dict, key string) string {
	v, _ := d.Get(key)
	s, _ := v.(string)
	return s
}

var docTemplate = template.Must(template.New("doc").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>API documentation</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/web/static/app.css"></head>
<body class="doc-page"><main class="content">
<h1>JSON-2 API</h1>
<p>Every call is <code>POST /json/2/&lt;model&gt;/&lt;method&gt;</code> with an API key (<a href="/web#/my-api-keys">My API keys</a>)
as <code>Authorization: bearer &lt;key&gt;</code> and the arguments by name in a JSON object; <code>ids</code> names the records of a
record method. Database: <code>{{.DB}}</code>.</p>
<nav><ul>{{range .Models}}<li><a href="#{{.Model}}">{{.Model}}</a> ({{.Name}}), <a href="/doc/{{.Model}}.json">JSON</a></li>{{end}}</ul></nav>
{{range .Models}}<section id="{{.Model}}" data-model="{{.Model}}">
<h2>{{.Model}}: {{.Name}}</h2>
<h3>Fields</h3>
<table class="list"><thead><tr><th>Field</th><th>Label</th><th>Type</th></tr></thead><tbody>
{{range .Rows}}<tr><td><code>{{.Name}}</code></td><td>{{.String}}</td><td>{{.Type}}{{with .Relation}} → {{.}}{{end}}</td></tr>
{{end}}</tbody></table>
<h3>Methods</h3>
{{range .Methods}}<details data-method="{{.Name}}"><summary><code>{{.Signature}}</code></summary>
<pre>{{.Example.Text}}</pre></details>
{{end}}</section>
{{end}}</main></body></html>
`))
