package iot

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// idKeys are the payload keys that name the device on a shared topic, in
// the order they are tried (seed 002's device_id, seed 004's deviceId).
var idKeys = []string{"device_id", "deviceId", "id", "client_id"}

// timeKeys name a reading's own timestamp; they are not sensors.
var timeKeys = []string{"timestamp", "time", "ts"}

// decode reads a payload as JSON, or else as text (invalid UTF-8 replaced),
// so that "21.5", "on" and {"value": 21.5} all make a value. Numbers stay
// float64 as encoding/json gives them; an empty payload is "".
func decode(payload []byte) any {
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(trimmed, &v) == nil {
		return v
	}
	s := string(payload)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// decodeObject returns the payload's JSON object, or nil.
func decodeObject(payload []byte) map[string]any {
	obj, _ := decode(payload).(map[string]any)
	return obj
}

// PayloadDeviceID reads the device id of a message on a shared topic:
// the first of device_id, deviceId, id, client_id that is a non-empty
// string or an integer. "" when there is none.
func PayloadDeviceID(payload []byte) string {
	return objectDeviceID(decodeObject(payload))
}

func objectDeviceID(obj map[string]any) string {
	for _, k := range idKeys {
		if id := idString(obj[k]); id != "" {
			return id
		}
	}
	return ""
}

// idString renders an id value: strings as they are, integral numbers
// without a fraction; anything else is no id.
func idString(v any) string {
	switch x := v.(type) {
	case string:
		x = strings.TrimSpace(x)
		if strings.ContainsAny(x, "/+#\x00") {
			return "" // not usable as a topic level
		}
		return x
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10)
		}
	}
	return ""
}

// Resolve matches topic and, for a shared topic, reads the device id from
// the payload. ok is false when the topic is no device message or the
// device cannot be told.
func (p Patterns) Resolve(topic string, payload []byte) (Match, bool) {
	m, ok := p.Match(topic)
	if !ok {
		return m, false
	}
	if m.DeviceID == "" {
		m.DeviceID = PayloadDeviceID(payload)
	}
	return m, m.DeviceID != ""
}

// timestamp reads a device's own timestamp: epoch milliseconds (seed 004),
// epoch seconds (seed 002), or RFC 3339 text. Zero when absent or odd.
func timestamp(obj map[string]any) time.Time {
	for _, k := range timeKeys {
		switch x := obj[k].(type) {
		case float64:
			switch {
			case x > 1e14: // microseconds
				return time.UnixMicro(int64(x)).UTC()
			case x > 1e11: // milliseconds
				return time.UnixMilli(int64(x)).UTC()
			case x > 1e8: // seconds
				sec, frac := math.Modf(x)
				return time.Unix(int64(sec), int64(frac*1e9)).UTC()
			}
		case string:
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t.UTC()
			}
		}
	}
	return time.Time{}
}

func isTimeKey(k string) bool {
	for _, t := range timeKeys {
		if k == t {
			return true
		}
	}
	return false
}

func isIDKey(k string) bool {
	for _, t := range idKeys {
		if k == t {
			return true
		}
	}
	return false
}

// str returns v when it is a string, else "".
func str(v any) string { s, _ := v.(string); return s }

// names returns the names in a list of strings, or of objects with an
// id or name (seed 004 resources), or the keys of an object.
func names(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			switch y := e.(type) {
			case string:
				out = append(out, y)
			case map[string]any:
				for _, k := range []string{"id", "name", "action", "resource"} {
					if s := str(y[k]); s != "" {
						out = append(out, s)
						break
					}
				}
			}
		}
	case map[string]any:
		for k := range x {
			out = append(out, k)
		}
		slices.Sort(out)
	case string:
		for _, s := range strings.Split(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}
