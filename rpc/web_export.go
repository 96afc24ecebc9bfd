package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// POST /web/export/csv: Odoo 16's CSVExport controller
// (addons/web/controllers/export.py), what the web client's Export dialog
// posts: a form with data, a JSON object {model, fields: [{name, label}],
// ids (false: the domain's records), domain, import_compat, context}. We
// also take order (the list's sort); Odoo exports in the model's order.
//
// Unlike Odoo, which builds the whole file in memory, the answer streams:
// the ids are searched once, then exported and written exportChunk at a
// time, each chunk in a read transaction of its own.

const (
	exportPath    = "/web/export/csv"
	exportChunk   = 1000
	exportMaxRows = 1_000_000
	// exportTimeout bounds the whole download: a client reading slowly
	// must not hold a request open for ever.
	exportTimeout = 10 * time.Minute
)

// exportParams is the data parameter of the export routes.
type exportParams struct {
	Model        string        `json:"model"`
	Fields       []exportField `json:"fields"`
	ImportCompat bool          `json:"import_compat"`
	Order        string        `json:"order"`

	domain  []any          // with the RPC's numbers (int64 where integral)
	context map[string]any // data.context
	ids     []int64        // nil: the domain's records
	names   []string       // the fields' names
}

type exportField struct {
	Name  string `json:"name"`
	Label string `json:"label"`
}

// serveExportCSV answers an export. Errors before the first byte is
// written are Odoo's: status 500 with the JSON error object (Odoo's
// serialize_exception), which the web client's download shows; an error
// once rows are streaming aborts the response, so a client never takes a
// cut file for a whole one.
func (s *server) serveExportCSV(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, err error) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		body, _ := json.Marshal(describe(r.Context(), s.log, err).JSON())
		_, _ = w.Write(body)
	}
	if !s.origins.Trusted(r) {
		fail(http.StatusForbidden, models.AccessErrorf("Cross-origin request refused: %s is not an allowed origin.", r.Header.Get("Origin")))
		return
	}
	sess, err := s.session(r)
	if err != nil {
		fail(http.StatusUnauthorized, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxRequestBytes)
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, models.ValueErrorf("bad export request: %v", err))
		return
	}
	p, err := parseExportParams(r.PostForm.Get("data"))
	if err != nil {
		fail(http.StatusBadRequest, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), exportTimeout)
	defer cancel()
	odooCtx, err := s.exportContext(ctx, sess.UID, p)
	if err != nil {
		fail(http.StatusInternalServerError, err)
		return
	}
	ids := p.ids
	if ids == nil {
		ids, err = s.exportSearch(ctx, sess.UID, p, odooCtx)
		if err != nil {
			fail(http.StatusInternalServerError, err)
			return
		}
	}
	// The first chunk runs before any byte is written: access, a bad
	// field, a bad domain answer as errors, not as a broken file.
	first, err := s.exportChunkRows(ctx, sess.UID, p, odooCtx, ids[:min(len(ids), exportChunk)])
	if err != nil {
		fail(http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv;charset=utf8")
	w.Header().Set("Content-Disposition", contentDisposition(s.exportFilename(p.Model)))
	w.WriteHeader(http.StatusOK)
	headers := make([]any, len(p.Fields))
	for i, f := range p.Fields {
		if p.ImportCompat {
			headers[i] = f.Name
		} else {
			headers[i] = strings.TrimSpace(f.Label)
		}
	}
	flusher, _ := w.(http.Flusher)
	write := func(rows [][]any) {
		var b strings.Builder
		for _, row := range rows {
			writeCSVRow(&b, row)
		}
		if _, err := io.WriteString(w, b.String()); err != nil {
			panic(http.ErrAbortHandler) // the client went away
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
	write([][]any{headers})
	write(first)
	for start := exportChunk; start < len(ids); start += exportChunk {
		rows, err := s.exportChunkRows(ctx, sess.UID, p, odooCtx, ids[start:min(len(ids), start+exportChunk)])
		if err != nil {
			s.log.ErrorContext(ctx, "export aborted mid-stream", "model", p.Model, "rows", start, "err", err)
			panic(http.ErrAbortHandler)
		}
		write(rows)
	}
}

// parseExportParams decodes the data parameter.
func parseExportParams(data string) (*exportParams, error) {
	if data == "" {
		return nil, models.TypeErrorf("index() missing 1 required positional argument: 'data'")
	}
	var p exportParams
	obj, err := jsonrpc.DecodeObject([]byte(data))
	if err == nil {
		err = json.Unmarshal([]byte(data), &p)
	}
	if err != nil {
		return nil, models.ValueErrorf("data must be a JSON object: %v", err)
	}
	if p.Model == "" {
		return nil, models.KeyErrorf("'model'")
	}
	if len(p.Fields) == 0 {
		return nil, models.UserErrorf("Choose the fields to export.")
	}
	for _, f := range p.Fields {
		p.names = append(p.names, f.Name)
	}
	if list, ok := obj["ids"].([]any); ok && len(list) > 0 {
		if len(list) > exportMaxRows {
			return nil, tooMany(len(list))
		}
		for _, v := range list {
			id, ok := py.Int(v)
			if !ok {
				return nil, models.ValueErrorf("ids must be a list of integers or false, got %s", py.Repr(v))
			}
			p.ids = append(p.ids, id)
		}
	}
	p.domain, _ = obj["domain"].([]any)
	if p.domain == nil {
		p.domain = []any{}
	}
	p.context, _ = obj["context"].(map[string]any)
	return &p, nil
}

func tooMany(n int) error {
	return models.UserErrorf("This export has %d rows; at most %d rows are exported at once: narrow the search.", n, exportMaxRows)
}

// exportContext is the user's context, then data.context, then
// import_compat, as Odoo's with_context(import_compat=..., **context).
func (s *server) exportContext(ctx context.Context, uid int64, p *exportParams) (map[string]any, error) {
	uc, err := s.reg.UserContext(ctx, uid)
	if err != nil {
		return nil, err
	}
	out := maps.Clone(uc)
	maps.Copy(out, p.context)
	out["import_compat"] = p.ImportCompat
	return out, nil
}

// exportSearch finds the records of the domain, in order, at most
// exportMaxRows of them (one more is asked for to tell).
func (s *server) exportSearch(ctx context.Context, uid int64, p *exportParams, odooCtx map[string]any) ([]int64, error) {
	order := any(false)
	if p.Order != "" {
		order = p.Order
	}
	res, err := s.reg.Execute(ctx, models.Call{UID: uid, Model: p.Model, Method: "search", Args: []any{p.domain},
		Kwargs: map[string]any{"order": order, "limit": int64(exportMaxRows + 1), "context": odooCtx}})
	if err != nil {
		return nil, err
	}
	ids, _ := res.([]int64)
	if len(ids) > exportMaxRows {
		return nil, tooMany(len(ids))
	}
	return ids, nil
}

// exportChunkRows exports the ids of one chunk that still exist for the
// user: records deleted since the search are left out, not an error.
func (s *server) exportChunkRows(ctx context.Context, uid int64, p *exportParams, odooCtx map[string]any, ids []int64) ([][]any, error) {
	// An empty chunk (no record matched) still calls export_data, which
	// checks the fields, so the request answers alike with and without rows.
	if len(ids) > 0 {
		res, err := s.reg.Execute(ctx, models.Call{UID: uid, Model: p.Model, Method: "exists", Args: []any{int64sToAny(ids)},
			Kwargs: map[string]any{"context": odooCtx}})
		if err != nil {
			return nil, err
		}
		ids, _ = res.([]int64)
	}
	names := make([]any, len(p.names))
	for i, n := range p.names {
		names[i] = n
	}
	res, err := s.reg.Execute(ctx, models.Call{UID: uid, Model: p.Model, Method: "export_data", Args: []any{int64sToAny(ids), names},
		Kwargs: map[string]any{"context": odooCtx}})
	if err != nil {
		return nil, err
	}
	d, ok := res.(*models.Dict)
	if !ok {
		return nil, fmt.Errorf("export_data returned %T", res)
	}
	v, _ := d.Get("datas")
	rows, ok := v.([][]any)
	if !ok {
		return nil, errors.New("export_data returned no datas")
	}
	return rows, nil
}

// exportFilename is Odoo's: the model's description, .csv.
func (s *server) exportFilename(model string) string {
	if m := s.reg.Model(model); m != nil && m.Description != "" {
		return m.Description + ".csv"
	}
	return model + ".csv"
}

// contentDisposition is an attachment header with an RFC 5987 name.
func contentDisposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, urlPathEscape(name))
}

func urlPathEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// writeCSVRow writes one row as Odoo's csv writer does (QUOTE_ALL,
// \r\n), with its cell texts: True/False, Python's float repr, and a
// quote before text starting with =, + or -, which spreadsheets would
// run as a formula.
func writeCSVRow(b *strings.Builder, row []any) {
	for i, v := range row {
		if i > 0 {
			b.WriteByte(',')
		}
		var s string
		switch t := v.(type) {
		case string:
			s = t
			if strings.HasPrefix(s, "=") || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
				s = "'" + s
			}
		case bool:
			s = "False"
			if t {
				s = "True"
			}
		case float64:
			s = py.FloatRepr(t)
		case nil:
		default:
			s = py.Text(t)
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(s, `"`, `""`))
		b.WriteByte('"')
	}
	b.WriteString("\r\n")
}

func int64sToAny(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
