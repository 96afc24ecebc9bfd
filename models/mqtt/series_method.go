package mqtt

import (
	"math"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonpath"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// SeriesParams are get_series' parameters (rpc/README.md): the rows are
// the domain's within [start, end); without start, the last
// range_seconds (an hour) before end (now).
var SeriesParams = []models.Param{
	{Name: "domain", Optional: true}, {Name: "json_path", Optional: true, Default: false},
	{Name: "interval_seconds", Optional: true, Default: false}, {Name: "start", Optional: true, Default: false},
	{Name: "end", Optional: true, Default: false}, {Name: "max_points", Optional: true, Default: false},
	{Name: "range_seconds", Optional: true, Default: false},
}

// historyGetSeries is mqtt.signal.history.get_series.
func historyGetSeries(env *models.Env, _ []int64, a models.Args) (any, error) {
	req, err := SeriesArgs(a, time.Now())
	if err != nil {
		return nil, err
	}
	if req.Domain, err = domainArg(a.Get("domain")); err != nil {
		return nil, err
	}
	if p := a.Get("json_path"); !py.IsFalse(p) {
		s, ok := p.(string)
		if !ok {
			return nil, models.ValidationErrorf("JSON path: a text such as \"temperature\" or \"$.sensors[0].value\", not %s.", py.Repr(p))
		}
		path, err := jsonpath.Parse(strings.TrimSpace(s))
		if err != nil {
			return nil, models.ValidationErrorf("JSON path: %v", err)
		}
		req.Paths = []*jsonpath.Path{path}
	}
	s, err := ComputeSeries(env, req)
	if err != nil {
		return nil, err
	}
	return s.Dict(), nil
}

// SeriesArgs reads a series call's time range and sizes (start, end,
// range_seconds, interval_seconds, max_points), naming the field in error.
func SeriesArgs(a models.Args, now time.Time) (SeriesRequest, error) {
	var req SeriesRequest
	var err error
	if req.End, err = timeArg(a.Get("end"), "End", now); err != nil {
		return req, err
	}
	rng, err := intArg(a.Get("range_seconds"), "Range (seconds)", 3600)
	if err != nil {
		return req, err
	}
	if req.Start, err = timeArg(a.Get("start"), "Start", req.End.Add(-time.Duration(rng)*time.Second)); err != nil {
		return req, err
	}
	if !req.End.After(req.Start) {
		return req, models.ValidationErrorf("End: %s is not after Start %s.", req.End.Format(models.DatetimeFormat), req.Start.Format(models.DatetimeFormat))
	}
	if req.Interval, err = intArg(a.Get("interval_seconds"), "Interval (seconds)", 0); err != nil {
		return req, err
	}
	mp, err := intArg(a.Get("max_points"), "Max points", DefaultSeriesPoints)
	if err != nil {
		return req, err
	}
	if mp > MaxSeriesPoints {
		return req, models.ValidationErrorf("Max points: at most %d, not %d.", MaxSeriesPoints, mp)
	}
	req.MaxPoints = int(mp)
	return req, nil
}

func timeArg(v any, field string, def time.Time) (time.Time, error) {
	if py.IsFalse(v) {
		return def.UTC().Truncate(time.Second), nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, models.ValidationErrorf("%s: a datetime YYYY-MM-DD HH:MM:SS, not %s.", field, py.Repr(v))
	}
	t, err := models.ParseDatetime(s)
	if err != nil {
		return time.Time{}, models.ValidationErrorf("%s: %v", field, err)
	}
	return t, nil
}

// intArg is a positive whole number (def when missing).
func intArg(v any, field string, def int64) (int64, error) {
	if py.IsFalse(v) {
		return def, nil
	}
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case int:
		n = int64(x)
	case float64:
		if x != math.Trunc(x) || x > 1e15 {
			return 0, models.ValidationErrorf("%s: a whole number, not %s.", field, py.Repr(v))
		}
		n = int64(x)
	default:
		return 0, models.ValidationErrorf("%s: a whole number, not %s.", field, py.Repr(v))
	}
	if n <= 0 {
		return 0, models.ValidationErrorf("%s: must be positive, not %d.", field, n)
	}
	return n, nil
}

func domainArg(v any) ([]any, error) {
	if py.IsFalse(v) {
		return nil, nil
	}
	d, ok := v.([]any)
	if !ok {
		return nil, models.ValidationErrorf("Domain: a list of conditions, not %s.", py.Repr(v))
	}
	return d, nil
}

// Dict is the series as get_series answers it.
func (s *Series) Dict() map[string]any {
	pts := make([]any, len(s.Points))
	for i, p := range s.Points {
		pts[i] = map[string]any{"time": p.Time.Format(models.DatetimeFormat), "count": p.Count, "min": p.Min, "max": p.Max, "avg": p.Avg}
	}
	return map[string]any{"interval": s.Interval, "start": s.Start.Format(models.DatetimeFormat),
		"end": s.End.Format(models.DatetimeFormat), "skipped": s.Skipped, "points": pts}
}
