package mqtt

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonpath"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// A series is the history of one numeric value bucketed by time on the
// server, so that a chart of a week of telemetry loads a few hundred
// points, never the rows. The value of a row is its payload as a number,
// or the number a JSON path finds in it (internal/jsonpath, the rules'
// paths); rows without one are counted as skipped.

// SeriesRequest is one series to compute.
type SeriesRequest struct {
	Domain []any // on mqtt.signal.history, besides the time range
	// Paths are tried in order, the first number found is the row's
	// value; a nil path is the whole payload. No paths: the payload.
	Paths      []*jsonpath.Path
	Start, End time.Time // [Start, End), to the second
	Interval   int64     // seconds per bucket, 0: chosen from MaxPoints
	MaxPoints  int       // 0: DefaultSeriesPoints
}

// SeriesPoint is one bucket: Time is its start.
type SeriesPoint struct {
	Time          time.Time
	Count         int64
	Min, Max, Avg float64
}

// Series is a computed series.
type Series struct {
	Interval   int64 // seconds per bucket
	Start, End time.Time
	Points     []SeriesPoint // buckets with values, oldest first
	Skipped    int64         // rows in range without a numeric value
}

// Bounds of a series' size.
const (
	DefaultSeriesPoints = 300
	MaxSeriesPoints     = 2000
)

// niceIntervals are the bucket widths a series picks from: round ones
// keep buckets aligned on clock times, so live values fall into the
// buckets a chart shows.
var niceIntervals = []int64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}

// seriesInterval is the bucket width: at least asked, at least 1 s, and
// wide enough that [start, end) aligned on it spans at most maxPoints
// buckets.
func seriesInterval(start, end time.Time, asked int64, maxPoints int) int64 {
	span := int64(end.Sub(start) / time.Second)
	need := int64(1)
	if maxPoints > 1 {
		need = (span + int64(maxPoints) - 2) / int64(maxPoints-1) // +1 bucket for the alignment
	} else {
		need = span + 1
	}
	need = max(need, asked, 1)
	for _, n := range niceIntervals {
		if n >= need {
			return n
		}
	}
	return (need + 86399) / 86400 * 86400
}

// NumberText reads s as a plain decimal number: the grammar the SQL
// side checks with a regular expression before its cast, so both ways
// agree. Its length (200) and exponent (2 digits) are bounded so that no
// number it allows overflows a float64 (a PostgreSQL cast would fail the
// whole query); bounds as lengths, not as {m,n} repetitions, which made
// PostgreSQL's regular expressions hundreds of times slower.
func NumberText(s string) (float64, bool) {
	s = strings.Trim(s, " \t\r\n")
	if len(s) > 200 {
		return 0, false
	}
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	intDigits := digitRun(s, i)
	i += intDigits
	fracDigits := 0
	if i < len(s) && s[i] == '.' {
		i++
		fracDigits = digitRun(s, i)
		i += fracDigits
	}
	if intDigits == 0 && fracDigits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		n := digitRun(s, i)
		if n == 0 || n > 2 {
			return 0, false
		}
		i += n
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func digitRun(s string, i int) int {
	n := 0
	for i+n < len(s) && s[i+n] >= '0' && s[i+n] <= '9' {
		n++
	}
	return n
}

// numberRegexp is numberText's grammar for PostgreSQL, on the trimmed text.
const numberRegexp = `^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9][0-9]?)?$`

// payloadNumber is a payload's value along paths (see SeriesRequest).
func payloadNumber(paths []*jsonpath.Path, payload string) (float64, bool) {
	if len(paths) == 0 {
		return NumberText(payload)
	}
	valid, checked := false, false
	for _, p := range paths {
		if p == nil {
			if f, ok := NumberText(payload); ok {
				return f, true
			}
			continue
		}
		if !checked {
			valid, checked = jsonpath.Valid([]byte(payload)), true
		}
		if !valid {
			continue
		}
		raw, ok := p.Scan([]byte(payload))
		if !ok || len(raw) == 0 {
			continue
		}
		text := string(raw)
		if raw[0] == '"' {
			var str string
			if json.Unmarshal(raw, &str) != nil {
				continue
			}
			text = str
		}
		if f, ok := NumberText(text); ok {
			return f, true
		}
	}
	return 0, false
}

// seriesWhere is the request's rows: its domain, the user's rules, the
// time range.
func seriesWhere(env *models.Env, m *models.Model, req SeriesRequest) (string, []any, error) {
	domain := append([]any{}, req.Domain...)
	if len(domain) == 0 {
		domain = []any{}
	}
	where, args, err := env.SearchWhere(m, domain)
	if err != nil {
		return "", nil, err
	}
	d := env.Dialect()
	where = "(" + where + `) AND t."timestamp" >= ? AND t."timestamp" < ?`
	return where, append(args, d.DBDatetime(req.Start), d.DBDatetime(req.End)), nil
}
