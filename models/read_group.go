package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"
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
				return nil, ValueErrorf("Invalid groupby %s", reprValue(n))
			}
			names = append(names, s)
		}
	default:
		if !isFalse(v) {
			return nil, ValueErrorf("Invalid groupby %s", reprValue(v))
		}
	}
	out := make([]groupSpec, 0, len(names))
	for _, n := range names {
		name, interval, _ := strings.Cut(strings.TrimSpace(n), ":")
		f := m.Field(name)
		if f == nil || !f.Stored() || f.Type == Binary || f.Secret {
			return nil, ValueErrorf("Invalid field %s on model %s", reprValue(name), reprValue(m.Name))
		}
		if f.Type == Datetime || f.Type == Date {
			if interval == "" {
				interval = "month"
			}
			switch interval {
			case "day", "week", "month", "quarter", "year":
			default:
				return nil, ValueErrorf("Invalid date/time grouping %s", reprValue(n))
			}
		} else if interval != "" {
			return nil, ValueErrorf("Invalid groupby %s: only date fields take an interval", reprValue(n))
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
			return nil, ValueErrorf("Invalid field %s on model %s", reprValue(name), reprValue(m.Name))
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
			return nil, ValueErrorf("Invalid aggregation function %s", reprValue(fn))
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
	groups, err := parseGroupBy(m, a.Get("groupby"))
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return nil, ValueErrorf("read_group needs at least one groupby field")
	}
	lazy := !isFalse(a.Get("lazy"))
	rest := []string{}
	if lazy {
		for _, g := range groups[1:] {
			rest = append(rest, g.Key)
		}
		groups = groups[:1]
	}
	fieldNames, err := namesArg(a, "fields")
	if err != nil {
		return nil, err
	}
	aggs, err := parseAggregates(m, fieldNames, groups)
	if err != nil {
		return nil, err
	}
	offset, limit, err := windowArgs(a)
	if err != nil {
		return nil, err
	}
	where, args, err := env.searchWhere(m, a.Get("domain"))
	if err != nil {
		return nil, err
	}
	d := env.Dialect()
	sel := make([]string, 0, len(groups)+len(aggs)+1)
	gb := make([]string, 0, len(groups))
	for i, g := range groups {
		e := d.groupExpr(g)
		sel = append(sel, e+` AS g`+strconv.Itoa(i))
		gb = append(gb, e)
	}
	sel = append(sel, `COUNT(*) AS n`)
	for i, ag := range aggs {
		expr := aggFuncs[ag.Func] + `(t.` + quote(ag.Field.Name) + `)`
		if ag.Func == "count_distinct" {
			expr = `COUNT(DISTINCT t.` + quote(ag.Field.Name) + `)`
		}
		sel = append(sel, expr+` AS a`+strconv.Itoa(i))
	}
	order, err := groupOrder(m, groups, a.Get("orderby"))
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + strings.Join(sel, ", ") + ` FROM ` + quote(m.Table) + ` t WHERE ` + where +
		` GROUP BY ` + strings.Join(gb, ", ") + ` ORDER BY ` + order
	if limit > 0 {
		q += ` LIMIT ` + strconv.FormatInt(limit, 10)
	} else if offset > 0 && d == SQLite {
		q += ` LIMIT -1`
	}
	if offset > 0 {
		q += ` OFFSET ` + strconv.FormatInt(offset, 10)
	}
	rows, err := env.DB().Raw(q, args...).Rows()
	if err != nil {
		return nil, Internal("read_group "+m.Name, err)
	}
	defer rows.Close()
	ncols := len(groups) + 1 + len(aggs)
	type rawGroup []any
	var raws []rawGroup
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
	baseDomain, _ := a.Get("domain").([]any)
	// Many2one group values are shown as [id, display_name].
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
		if names[g.Key], err = env.Sudo().displayNames(env.reg.Model(g.Field.Relation), ids); err != nil {
			return nil, err
		}
	}
	countKey := "__count"
	if lazy {
		countKey = groups[0].Field.Name + "_count"
	}
	out := make([]*Dict, 0, len(raws))
	for _, r := range raws {
		gd := NewDict(ncols + 3)
		dom := []any{}
		ranges := map[string]any{}
		for i, g := range groups {
			raw := r[i]
			if b, ok := raw.([]byte); ok {
				raw = string(b)
			}
			switch {
			case g.Interval != "":
				s, _ := raw.(string)
				start, perr := time.Parse(DatetimeFormat, s)
				if raw == nil || perr != nil {
					gd.Set(g.Key, false)
					dom = append(dom, []any{g.Field.Name, "=", false})
					continue
				}
				end, label := intervalEnd(start, g.Interval)
				from, to := start.Format(DatetimeFormat), end.Format(DatetimeFormat)
				if g.Field.Type == Date {
					from, to = start.Format(DateFormat), end.Format(DateFormat)
				}
				gd.Set(g.Key, label)
				ranges[g.Key] = map[string]any{"from": from, "to": to}
				dom = append(dom, "&", []any{g.Field.Name, ">=", from}, []any{g.Field.Name, "<", to})
			case g.Field.Type == Many2one:
				v := g.Field.normalizeDB(raw)
				if v == nil {
					gd.Set(g.Key, false)
					dom = append(dom, []any{g.Field.Name, "=", false})
					continue
				}
				id := v.(int64)
				gd.Set(g.Key, []any{id, names[g.Key][id]})
				dom = append(dom, []any{g.Field.Name, "=", id})
			default:
				v := g.Field.toRead(g.Field.normalizeDB(raw))
				gd.Set(g.Key, v)
				if raw == nil {
					v = false
				}
				dom = append(dom, []any{g.Field.Name, "=", v})
			}
		}
		gd.Set(countKey, toInt64(r[len(groups)]))
		for i, ag := range aggs {
			v := r[len(groups)+1+i]
			if ag.Func == "count" || ag.Func == "count_distinct" || ag.Field.Type == Integer && ag.Func != "avg" {
				gd.Set(ag.Alias, toInt64(v))
			} else {
				gd.Set(ag.Alias, toFloat64(v))
			}
		}
		gd.Set("__domain", append(dom, baseDomain...))
		if len(ranges) > 0 {
			gd.Set("__range", ranges)
		}
		if lazy && len(rest) > 0 {
			gd.Set("__context", map[string]any{"group_by": rest})
		}
		out = append(out, gd)
	}
	return out, nil
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
	if isFalse(v) || strings.TrimSpace(s) == "" {
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
				return "", ValueErrorf("Invalid field %s on model %s", reprValue(words[0]), reprValue(m.Name))
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
