package rpc

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// serviceFunc runs one method of a service with its positional params, as
// Odoo's odoo.service.<name>.dispatch(method, params) does.
type serviceFunc func(s *server, ctx context.Context, method string, params []any) (any, error)

// services is every service /xmlrpc/2/<service>, /xmlrpc/<service> and
// /jsonrpc can reach (odoo/http.py dispatch_rpc).
var services = map[string]serviceFunc{
	"common": dispatchCommon,
	"db":     dispatchDB,
	"object": dispatchObject,
}

// dispatch is the dialect-neutral entry point: params are plain values
// (int64 from XML-RPC, int64 or float64 from JSON) and the result is a
// plain value for the codec to encode.
func (s *server) dispatch(ctx context.Context, service, method string, params []any) (any, error) {
	svc, ok := s.services[service]
	if !ok {
		// dispatch_rpc looks the service up in a dict: KeyError.
		return nil, models.KeyErrorf("%s", py.Repr(service))
	}
	return svc(s, ctx, method, params)
}

// checkArgs applies Python's positional-arity rules to a service function
// whose parameters are names, the first required of them mandatory, and
// words the TypeError as Python does.
func checkArgs(fn string, params []any, names []string, required int) error {
	n, max := len(params), len(names)
	if n > max {
		takes := strconv.Itoa(max)
		if required < max {
			takes = fmt.Sprintf("from %d to %d", required, max)
		}
		return models.TypeErrorf("%s() takes %s positional argument%s but %d %s given", fn, takes, plural(max), n, wasWere(n))
	}
	if n < required {
		missing := names[n:required]
		quoted := make([]string, len(missing))
		for i, m := range missing {
			quoted[i] = "'" + m + "'"
		}
		list := strings.Join(quoted, ", ")
		if len(quoted) > 1 {
			list = strings.Join(quoted[:len(quoted)-1], ", ") + " and " + quoted[len(quoted)-1]
		}
		return models.TypeErrorf("%s() missing %d required positional argument%s: %s", fn, len(missing), plural(len(missing)), list)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// checkDB refuses any database name but ours. It runs before anything else
// for every method that takes a db, and its message contains "does not
// exist" because clients (odooly) grep faults for it to detect a wrong name.
func (s *server) checkDB(v any) error {
	if name, ok := v.(string); ok && name == s.opts.DBName {
		return nil
	}
	return &pyError{name: nameOperationalErr, msg: fmt.Sprintf("FATAL:  database %q does not exist", py.Text(v))}
}

// parseUID converts the uid param as Python's int() does for the values a
// client can send: ints, integral floats, digit strings, and booleans
// (False is 0). Anything else is a ValueError, as in Odoo.
func parseUID(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x), nil
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, models.ValueErrorf("invalid literal for int() with base 10: %s", py.Repr(v))
}

// secret returns a password param; anything but a string can never match,
// so it becomes "" and fails the credential check (AccessDenied).
func secret(v any) string {
	s, _ := v.(string)
	return s
}
