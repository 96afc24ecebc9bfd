package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// groupSpec is one parsed groupby entry: a field and, for dates, a
// granularity (day, week, month, quarter, year).
type groupSpec struct {
	Key      string // as the client wrote it: "timestamp:month"
	Field    *Field
	Interval string
}

type aggSpec struct {
	Alias string
	Func  string
	Field *Field // nil for count
}

var aggFuncs = map[string]string{"sum": "SUM", "avg": "AVG", "min": "MIN", "max": "MAX", "count": "COUNT", "count_distinct": "COUNT"}

func parseGroupBy(m *Model, v any) ([]groupSpec, error) {
	var names []string
	switch x := v.(type) {
	case string:
		names = []string{x}
	case []any:
		for _, n := range x {
			s, ok := n.(string)
			if !ok {
				return nil, ValueErrorf("Invalid groupby %s", py.Repr(n))
			}
			names = append(names, s)
		}
	default:
		if !py.IsFalse(v) {
			return nil, ValueErrorf("Invalid groupby %s", py.Repr(v))
		}
	}
	out := make([]groupSpec, 0, len(names))
	for _, n := range names {
		name, interval, _ := strings.Cut(strings.TrimSpace(n), ":")
		f := m.Field(name)
		if f == nil || !f.Stored() || f.Type == Binary || f.Secret {
			return nil, ValueErrorf("Invalid field %s on model %s", py.Repr(name), py.Repr(m.Name))
		}
		if f.Type == Datetime || f.Type == Date {
			if interval == "" {
				interval = "month"
			}
			switch interval {
			case "day", "week", "month", "quarter", "year":
			default:
				return nil, ValueErrorf("Invalid date/time grouping %s", py.Repr(n))
			}
		} else if interval != "" {
			return nil, ValueErrorf("Invalid groupby %s: only date fields take an interval", py.Repr(n))
		}
		out = append(out, groupSpec{Key: n, Field: f, Interval: interval})
	}
	return out, nil
}

func parseAggregates(m *Model, fields []string, groups []groupSpec) ([]aggSpec, error) {
	grouped := map[string]bool{}
	for _, g := range groups {
		grouped[g.Field.Name] = true
	}
	var out []aggSpec
	for _, spec := range fields {
		spec = strings.TrimSpace(spec)
		alias, rest, hasAgg := strings.Cut(spec, ":")
		name, fn := alias, ""
		if hasAgg {
			fn = rest
			if i := strings.IndexByte(rest, '('); i > 0 && strings.HasSuffix(rest, ")") {
				fn, name = rest[:i], rest[i+1:len(rest)-1]
			}
		}
		if name == "__count" || (fn == "count" && name == "id") {
			continue
		}
		f := m.Field(name)
		if f == nil {
			return nil, ValueErrorf("Invalid field %s on model %s", py.Repr(name), py.Repr(m.Name))
		}
		if grouped[name] || !f.Stored() || f.Secret {
			continue
		}
		if fn == "" {
			if f.Type != Integer && f.Type != Float || f.Name == "id" {
				continue // Odoo only aggregates numeric fields by default
			}
			fn = "sum"
		}
		if _, ok := aggFuncs[fn]; !ok {
			return nil, ValueErrorf("Invalid aggregation function %s", py.Repr(fn))
		}
		out = append(out, aggSpec{Alias: alias, Func: fn, Field: f})
	}
	return out, nil
}

// groupExpr is the SQL expression grouping a field, truncating dates to
// the start of their interval as text "YYYY-MM-DD HH:MM:SS".
func (d Dialect) groupExpr(g groupSpec) string {
	col := `t.` + quote(g.Field.Name)
	if g.Interval == "" {
		return col
	}
	if d == Postgres {
		return `to_char(date_trunc('` + g.Interval + `', ` + col + `), 'YYYY-MM-DD HH24:MI:SS')`
	}
	switch g.Interval {
	case "day":
		return `strftime('%Y-%m-%d 00:00:00', ` + col + `)`
	case "week":
		return `strftime('%Y-%m-%d 00:00:00', ` + col + `, 'weekday 0', '-6 days')`
	case "month":
		return `strftime('%Y-%m-01 00:00:00', ` + col + `)`
	case "quarter":
		return `printf('%s-%02d-01 00:00:00', strftime('%Y', ` + col + `), ((CAST(strftime('%m', ` + col + `) AS INTEGER) - 1) / 3) * 3 + 1)`
	}
	return `strftime('%Y-01-01 00:00:00', ` + col + `)`
}

// intervalEnd returns the start of the next interval and Odoo's label.
func intervalEnd(start time.Time, interval string) (time.Time, string) {
	switch interval {
	case "day":
		return start.AddDate(0, 0, 1), start.Format("02 Jan 2006")
	case "week":
		y, w := start.ISOWeek()
		return start.AddDate(0, 0, 7), fmt.Sprintf("W%d %d", w, y)
	case "quarter":
		return start.AddDate(0, 3, 0), fmt.Sprintf("Q%d %d", (int(start.Month())-1)/3+1, start.Year())
	case "year":
		return start.AddDate(1, 0, 0), start.Format("2006")
	}
	return start.AddDate(0, 1, 0), start.Format("January 2006")
}

// methodReadGroup implements read_group: group by one field (lazy) or all
// groupbys, with counts and aggregates, each group carrying the domain
// that selects it.
func methodReadGroup(env *Env, _ []int64, a Args) (any, error) {
	m := env.CurrentModel()
	req, err := parseReadGroup(env, m, a)
	if err != nil {
		return nil, err
	}
	raws, err := scanGroupRows(env, m, req.sql(env.Dialect(), m), req.args, req.ncols())
	if err != nil {
		return nil, err
	}
	names, err := many2oneGroupNames(env, req.groups, raws)
	if err != nil {
		return nil, err
	}
	baseDomain, _ := a.Get("domain").([]any)
	out := make([]*Dict, 0, len(raws))
	for _, r := range raws {
		out = append(out, req.groupDict(r, names, baseDomain))
	}
	return out, nil
}

// readGroupRequest is a parsed and checked read_group call.
type readGroupRequest struct {
	groups        []groupSpec
	lazy          bool
	rest          []string // lazy: the groupbys after the first, for __context
	countKey      string   // "__count", or "<field>_count" when lazy
	aggs          []aggSpec
	offset, limit int64
	where         string // the domain, compiled on alias t
	args          []any
	order         string
}

// parseReadGroup reads the arguments of read_group, checking them in the
// order that decides which error a client sees first: groupby, fields,
// offset and limit, domain, orderby.
func parseReadGroup(env *Env, m *Model, a Args) (*readGroupRequest, error) {
	req, err := parseGroupRequest(m, a)
	if err != nil {
		return nil, err
	}
	fieldNames, err := namesArg(a, "fields")
	if err != nil {
		return nil, err
	}
	if req.aggs, err = parseAggregates(m, fieldNames, req.groups); err != nil {
		return nil, err
	}
	if req.offset, req.limit, err = windowArgs(a); err != nil {
		return nil, err
	}
	if req.where, req.args, err = env.searchWhere(m, a.Get("domain")); err != nil {
		return nil, err
	}
	if req.order, err = groupOrder(m, req.groups, a.Get("orderby")); err != nil {
		return nil, err
	}
	return req, nil
}

// parseGroupRequest reads groupby and lazy: lazy keeps the first groupby
// only and passes the others on in each group's __context.
func parseGroupRequest(m *Model, a Args) (*readGroupRequest, error) {
	groups, err := parseGroupBy(m, a.Get("groupby"))
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return nil, ValueErrorf("read_group needs at least one groupby field")
	}
	req := &readGroupRequest{lazy: !py.IsFalse(a.Get("lazy")), countKey: "__count"}
	if req.lazy {
		for _, g := range groups[1:] {
			req.rest = append(req.rest, g.Key)
		}
		groups = groups[:1]
		req.countKey = groups[0].Field.Name + "_count"
	}
	req.groups = groups
	return req, nil
}

// ncols is the number of columns the query selects: one per group, the
// count, one per aggregate.
func (req *readGroupRequest) ncols() int { return len(req.groups) + 1 + len(req.aggs) }

// sql is the grouping query: columns g0.., n, a0.. in that order.
func (req *readGroupRequest) sql(d Dialect, m *Model) string {
	sel := make([]string, 0, req.ncols())
	gb := make([]string, 0, len(req.groups))
	for i, g := range req.groups {
		e := d.groupExpr(g)
		sel = append(sel, e+` AS g`+strconv.Itoa(i))
		gb = append(gb, e)
	}
	sel = append(sel, `COUNT(*) AS n`)
	for i, ag := range req.aggs {
		sel = append(sel, ag.sqlExpr()+` AS a`+strconv.Itoa(i))
	}
	q := `SELECT ` + strings.Join(sel, ", ") + ` FROM ` + quote(m.Table) + ` t WHERE ` + req.where +
		` GROUP BY ` + strings.Join(gb, ", ") + ` ORDER BY ` + req.order
	return q + windowSQL(d, req.offset, req.limit)
}

// sqlExpr is the aggregate's SQL over alias t.
func (ag aggSpec) sqlExpr() string {
	if ag.Func == "count_distinct" {
		return `COUNT(DISTINCT t.` + quote(ag.Field.Name) + `)`
	}
	return aggFuncs[ag.Func] + `(t.` + quote(ag.Field.Name) + `)`
}

// windowSQL renders LIMIT and OFFSET; SQLite needs a LIMIT (-1: none)
// before an OFFSET.
func windowSQL(d Dialect, offset, limit int64) string {
	q := ""
	if limit > 0 {
		q += ` LIMIT ` + strconv.FormatInt(limit, 10)
	} else if offset > 0 && d == SQLite {
		q += ` LIMIT -1`
	}
	if offset > 0 {
		q += ` OFFSET ` + strconv.FormatInt(offset, 10)
	}
	return q
}

// scanGroupRows runs the grouping query and returns its rows as the
// drivers' raw values, ncols per row.
func scanGroupRows(env *Env, m *Model, q string, args []any, ncols int) ([][]any, error) {
	rows, err := env.DB().Raw(q, args...).Rows()
	if err != nil {
		return nil, Internal("read_group "+m.Name, err)
	}
	defer rows.Close()
	var raws [][]any
	for rows.Next() {
		dest := make([]any, ncols)
		ptrs := make([]any, ncols)
		for i := range dest {
			ptrs[i] = &dest[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, Internal("read_group "+m.Name, err)
		}
		raws = append(raws, dest)
	}
	if err := rows.Err(); err != nil {
		return nil, Internal("read_group "+m.Name, err)
	}
	return raws, nil
}

// many2oneGroupNames fetches, per many2one group key, the display names of the
// ids among the rows: many2one group values are shown as [id, name].
func many2oneGroupNames(env *Env, groups []groupSpec, raws [][]any) (map[string]map[int64]string, error) {
	names := map[string]map[int64]string{}
	for i, g := range groups {
		if g.Field.Type != Many2one {
			continue
		}
		var ids []int64
		for _, r := range raws {
			if v := g.Field.normalizeDB(r[i]); v != nil {
				ids = append(ids, v.(int64))
			}
		}
		var err error
		if names[g.Key], err = env.Sudo().displayNames(env.reg.Model(g.Field.Relation), ids); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// groupDict builds the dict of one row: the group values, the count, the
// aggregates, the domain selecting the group (then baseDomain), the date
// ranges and, when lazy, the groupbys left.
func (req *readGroupRequest) groupDict(r []any, names map[string]map[int64]string, baseDomain []any) *Dict {
	gr := &groupRow{gd: NewDict(req.ncols() + 3), ranges: map[string]any{}}
	for i, g := range req.groups {
		raw := r[i]
		if b, ok := raw.([]byte); ok {
			raw = string(b)
		}
		switch {
		case g.Interval != "":
			gr.dateValue(g, raw)
		case g.Field.Type == Many2one:
			gr.many2oneValue(g, raw, names[g.Key])
		default:
			gr.plainValue(g, raw)
		}
	}
	gd := gr.gd
	gd.Set(req.countKey, toInt64(r[len(req.groups)]))
	req.setAggregates(gd, r[len(req.groups)+1:])
	gd.Set("__domain", andDomains(append(gr.sections, baseDomain)...))
	if len(gr.ranges) > 0 {
		gd.Set("__range", gr.ranges)
	}
	if req.lazy && len(req.rest) > 0 {
		gd.Set("__context", map[string]any{"group_by": req.rest})
	}
	return gd
}

// setAggregates sets each aggregate from its raw value: counts and
// integer sums, minima and maxima as integers, other numbers as floats,
// minima and maxima of other fields in read format. An aggregate over only
// NULLs is False, as Odoo's _read_group_prepare_data turns None into False.
func (req *readGroupRequest) setAggregates(gd *Dict, vals []any) {
	for i, ag := range req.aggs {
		v := vals[i]
		numeric := ag.Field.Type == Integer || ag.Field.Type == Float
		switch {
		case v == nil:
			gd.Set(ag.Alias, false)
		case ag.Func == "count" || ag.Func == "count_distinct" || ag.Field.Type == Integer && ag.Func != "avg":
			gd.Set(ag.Alias, toInt64(v))
		case numeric || ag.Func == "sum" || ag.Func == "avg":
			gd.Set(ag.Alias, toFloat64(v))
		default:
			gd.Set(ag.Alias, ag.Field.toRead(ag.Field.normalizeDB(v)))
		}
	}
}

// groupRow is one group being built: its dict, the domain selecting it
// per groupby and the from/to of its date groups.
type groupRow struct {
	gd       *Dict
	sections [][]any
	ranges   map[string]any
}

// emptyValue sets an empty (NULL) group: false, selected by "= False".
func (gr *groupRow) emptyValue(g groupSpec) {
	gr.gd.Set(g.Key, false)
	gr.sections = append(gr.sections, []any{[]any{g.Field.Name, "=", false}})
}

// dateValue sets a date interval group from the start of its interval
// (text "YYYY-MM-DD HH:MM:SS"): Odoo's label, a range and a domain of
// from <= field < to.
func (gr *groupRow) dateValue(g groupSpec, raw any) {
	s, _ := raw.(string)
	start, perr := time.Parse(DatetimeFormat, s)
	if raw == nil || perr != nil {
		gr.emptyValue(g)
		return
	}
	end, label := intervalEnd(start, g.Interval)
	from, to := start.Format(DatetimeFormat), end.Format(DatetimeFormat)
	if g.Field.Type == Date {
		from, to = start.Format(DateFormat), end.Format(DateFormat)
	}
	gr.gd.Set(g.Key, label)
	gr.ranges[g.Key] = map[string]any{"from": from, "to": to}
	gr.sections = append(gr.sections, []any{"&", []any{g.Field.Name, ">=", from}, []any{g.Field.Name, "<", to}})
}

// many2oneValue sets a many2one group as [id, display_name].
func (gr *groupRow) many2oneValue(g groupSpec, raw any, names map[int64]string) {
	v := g.Field.normalizeDB(raw)
	if v == nil {
		gr.emptyValue(g)
		return
	}
	id := v.(int64)
	gr.gd.Set(g.Key, []any{id, names[id]})
	gr.sections = append(gr.sections, []any{[]any{g.Field.Name, "=", id}})
}

// plainValue sets any other group in read format; its domain compares
// with False when the value is NULL (read format may show 0 or false).
func (gr *groupRow) plainValue(g groupSpec, raw any) {
	v := g.Field.toRead(g.Field.normalizeDB(raw))
	gr.gd.Set(g.Key, v)
	if raw == nil {
		v = false
	}
	gr.sections = append(gr.sections, []any{[]any{g.Field.Name, "=", v}})
}

func toFloat64(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case []byte:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case []byte:
		n, _ := strconv.ParseInt(string(x), 10, 64)
		return n
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

// groupOrder validates an orderby over the grouped fields and __count.
func groupOrder(m *Model, groups []groupSpec, v any) (string, error) {
	idx := map[string]int{}
	for i, g := range groups {
		idx[g.Key] = i
		idx[g.Field.Name] = i
	}
	s, _ := v.(string)
	if py.IsFalse(v) || strings.TrimSpace(s) == "" {
		parts := make([]string, len(groups))
		for i := range groups {
			parts[i] = "g" + strconv.Itoa(i) + " ASC"
		}
		return strings.Join(parts, ", "), nil
	}
	var parts []string
	for _, term := range strings.Split(s, ",") {
		words := strings.Fields(term)
		if len(words) == 0 || len(words) > 2 {
			return "", UserErrorf("Invalid \"order\" specified (%s).", s)
		}
		dir := "ASC"
		if len(words) == 2 {
			switch strings.ToLower(words[1]) {
			case "asc":
			case "desc":
				dir = "DESC"
			default:
				return "", UserErrorf("Invalid \"order\" specified (%s).", s)
			}
		}
		if words[0] == "__count" {
			parts = append(parts, "n "+dir)
			continue
		}
		i, ok := idx[words[0]]
		if !ok {
			if m.Field(words[0]) == nil {
				return "", ValueErrorf("Invalid field %s on model %s", py.Repr(words[0]), py.Repr(m.Name))
			}
			continue // Odoo ignores order terms on non-grouped fields
		}
		parts = append(parts, "g"+strconv.Itoa(i)+" "+dir)
	}
	if len(parts) == 0 {
		parts = append(parts, "g0 ASC")
	}
	return strings.Join(parts, ", "), nil
}
