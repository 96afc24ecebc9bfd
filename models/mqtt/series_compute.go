package mqtt

import (
	"strconv"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// ComputeSeries buckets the history rows of req the user of env may
// read. PostgreSQL groups whole-payload numbers in SQL; JSON paths (whose
// cast PostgreSQL 15 cannot guard against a malformed document) and
// SQLite stream the matching rows' time and payload through Go, holding
// only the buckets.
func ComputeSeries(env *models.Env, req SeriesRequest) (*Series, error) {
	m := env.Registry().Model("mqtt.signal.history")
	if req.MaxPoints <= 0 {
		req.MaxPoints = DefaultSeriesPoints
	}
	req.MaxPoints = min(req.MaxPoints, MaxSeriesPoints)
	req.Start, req.End = req.Start.UTC().Truncate(time.Second), req.End.UTC().Truncate(time.Second)
	iv := seriesInterval(req.Start, req.End, req.Interval, req.MaxPoints)
	where, args, err := seriesWhere(env, m, req)
	if err != nil {
		return nil, err
	}
	out := &Series{Interval: iv, Start: req.Start, End: req.End, Points: []SeriesPoint{}}
	if env.Dialect() == models.Postgres && wholePayload(req) {
		return out, seriesSQL(env, m, where, args, out)
	}
	return out, seriesStream(env, m, req, where, args, out)
}

// wholePayload: the value is the payload itself, no JSON path.
func wholePayload(req SeriesRequest) bool {
	for _, p := range req.Paths {
		if p != nil {
			return false
		}
	}
	return true
}

// seriesSQL groups in PostgreSQL: the cast is guarded by numberText's
// grammar, so a payload that is not a number is skipped, never an error.
func seriesSQL(env *models.Env, m *models.Model, where string, args []any, out *Series) error {
	iv := strconv.FormatInt(out.Interval, 10)
	text := `btrim(t."payload", E' \t\r\n')`
	v := `CASE WHEN length(` + text + `) <= 200 AND ` + text + ` ~ ? THEN ` + text + `::float8 END`
	q := `SELECT b, count(v), coalesce(min(v), 0), coalesce(max(v), 0), coalesce(avg(v), 0), count(*) - count(v) FROM (` +
		`SELECT floor(date_part('epoch', t."timestamp") / ` + iv + `)::bigint AS b, ` + v + ` AS v FROM "` + m.Table + `" t WHERE ` + where +
		` OFFSET 0) s GROUP BY b ORDER BY b`
	// The regular expression is a parameter: its "?" would read as one.
	rows, err := env.DB().Raw(q, append([]any{numberRegexp}, args...)...).Rows()
	if err != nil {
		return models.Internal("get_series", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b, n, skipped int64
		var lo, hi, avg float64
		if err := rows.Scan(&b, &n, &lo, &hi, &avg, &skipped); err != nil {
			return models.Internal("get_series", err)
		}
		out.Skipped += skipped
		if n > 0 {
			out.Points = append(out.Points, SeriesPoint{Time: time.Unix(b*out.Interval, 0).UTC(), Count: n, Min: lo, Max: hi, Avg: avg})
		}
	}
	if err := rows.Err(); err != nil {
		return models.Internal("get_series", err)
	}
	return nil
}

// seriesStream reads the rows' epoch and payload in time order and folds
// them into at most MaxPoints buckets as they come.
func seriesStream(env *models.Env, m *models.Model, req SeriesRequest, where string, args []any, out *Series) error {
	epoch := `CAST(strftime('%s', t."timestamp") AS INTEGER)`
	if env.Dialect() == models.Postgres {
		epoch = `floor(extract(epoch FROM t."timestamp"))::bigint`
	}
	q := `SELECT ` + epoch + `, t."payload" FROM "` + m.Table + `" t WHERE ` + where
	rows, err := env.DB().Raw(q, args...).Rows()
	if err != nil {
		return models.Internal("get_series", err)
	}
	defer rows.Close()
	first := req.Start.Unix() / out.Interval
	type acc struct {
		n             int64
		lo, hi, total float64
	}
	buckets := make([]acc, (req.End.Unix()-1)/out.Interval-first+1)
	var sec int64
	var payload string
	for rows.Next() {
		if err := rows.Scan(&sec, &payload); err != nil {
			return models.Internal("get_series", err)
		}
		f, ok := payloadNumber(req.Paths, payload)
		i := sec/out.Interval - first
		if !ok || i < 0 || i >= int64(len(buckets)) {
			out.Skipped++
			continue
		}
		a := &buckets[i]
		if a.n == 0 || f < a.lo {
			a.lo = f
		}
		if a.n == 0 || f > a.hi {
			a.hi = f
		}
		a.n++
		a.total += f
	}
	if err := rows.Err(); err != nil {
		return models.Internal("get_series", err)
	}
	for i, a := range buckets {
		if a.n > 0 {
			out.Points = append(out.Points, SeriesPoint{Time: time.Unix((first+int64(i))*out.Interval, 0).UTC(),
				Count: a.n, Min: a.lo, Max: a.hi, Avg: a.total / float64(a.n)})
		}
	}
	return nil
}
