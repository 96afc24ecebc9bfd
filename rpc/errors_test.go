package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// TestDescribe pins the one mapping from errors to what clients see, for
// every kind and the errors rpc makes itself (§1.7, §2.1).
func TestDescribe(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		fault      int
		faultText  string
		legacyCode string
		legacyText string
		jsonCode   int
		jsonName   string
		jsonMsg    string
		debug      string
	}{
		{"user", models.UserErrorf("Object x doesn't exist"),
			2, "Object x doesn't exist", "warning -- UserError\n\nObject x doesn't exist", "",
			200, "odoo.exceptions.UserError", "Object x doesn't exist", "UserError: Object x doesn't exist"},
		{"validation", models.ValidationErrorf("Port: bad"),
			2, "Port: bad", "warning -- UserError\n\nPort: bad", "",
			200, "odoo.exceptions.ValidationError", "Port: bad", "ValidationError: Port: bad"},
		{"missing", models.MissingErrorf("Record does not exist or has been deleted."),
			2, "Record does not exist or has been deleted.", "warning -- MissingError\n\nRecord does not exist or has been deleted.", "",
			200, "odoo.exceptions.MissingError", "Record does not exist or has been deleted.", "MissingError: Record does not exist or has been deleted."},
		{"access denied", models.ErrAccessDenied,
			3, "Access Denied", "AccessDenied", "Access Denied",
			200, "odoo.exceptions.AccessDenied", "Access Denied", "AccessDenied: Access Denied"},
		{"access", models.AccessErrorf("Private methods (such as _foo) cannot be called remotely."),
			4, "Private methods (such as _foo) cannot be called remotely.", "warning -- AccessError\n\nPrivate methods (such as _foo) cannot be called remotely.", "",
			200, "odoo.exceptions.AccessError", "Private methods (such as _foo) cannot be called remotely.", "AccessError: Private methods (such as _foo) cannot be called remotely."},
		{"value", models.ValueErrorf("Invalid field 'x' on model 'mqtt.broker'"),
			1, "ValueError: Invalid field 'x' on model 'mqtt.broker'", "Invalid field 'x' on model 'mqtt.broker'", "ValueError: Invalid field 'x' on model 'mqtt.broker'",
			200, "builtins.ValueError", "Invalid field 'x' on model 'mqtt.broker'", "ValueError: Invalid field 'x' on model 'mqtt.broker'"},
		{"type", models.TypeErrorf("f() takes 1 positional argument but 2 were given"),
			1, "TypeError: f() takes 1 positional argument but 2 were given", "f() takes 1 positional argument but 2 were given", "TypeError: f() takes 1 positional argument but 2 were given",
			200, "builtins.TypeError", "f() takes 1 positional argument but 2 were given", "TypeError: f() takes 1 positional argument but 2 were given"},
		{"attribute", models.AttributeErrorf("no method"),
			1, "AttributeError: no method", "no method", "AttributeError: no method",
			200, "builtins.AttributeError", "no method", "AttributeError: no method"},
		{"key", models.KeyErrorf("'foo'"),
			1, "KeyError: 'foo'", "'foo'", "KeyError: 'foo'",
			200, "builtins.KeyError", "'foo'", "KeyError: 'foo'"},
		{"name error", &pyError{name: nameNameError, msg: "Method not available x"},
			1, "NameError: Method not available x", "Method not available x", "NameError: Method not available x",
			200, "builtins.NameError", "Method not available x", "NameError: Method not available x"},
		{"wrapped call", &callError{service: "object", method: "write", model: "m", err: fmt.Errorf("ctx: %w", models.MissingErrorf("gone"))},
			2, "gone", "warning -- MissingError\n\ngone", "",
			200, "odoo.exceptions.MissingError", "gone", "MissingError: gone"},
		{"session expired", models.ErrSessionExpired,
			1, "SessionExpiredException: Session expired", "Session expired", "SessionExpiredException: Session expired",
			100, "odoo.http.SessionExpiredException", "Session expired", "SessionExpiredException: Session expired"},
		{"too large", &http.MaxBytesError{Limit: 10},
			1, "RequestEntityTooLarge: " + jsonrpc.TextTooLarge + " (limit 10 bytes)", jsonrpc.TextTooLarge + " (limit 10 bytes)", "RequestEntityTooLarge: " + jsonrpc.TextTooLarge + " (limit 10 bytes)",
			200, "werkzeug.exceptions.RequestEntityTooLarge", jsonrpc.TextTooLarge + " (limit 10 bytes)", "RequestEntityTooLarge: " + jsonrpc.TextTooLarge + " (limit 10 bytes)"},
		{"internal", models.Internal("read", errors.New("disk on fire")),
			1, "InternalError: internal server error (request req-1)", "internal server error (request req-1)", "InternalError: internal server error (request req-1)",
			200, "builtins.Exception", "internal server error (request req-1)", "InternalError: internal server error (request req-1)"},
		{"unclassified", errors.New("pq: secret detail"),
			1, "InternalError: internal server error (request req-1)", "internal server error (request req-1)", "InternalError: internal server error (request req-1)",
			200, "builtins.Exception", "internal server error (request req-1)", "InternalError: internal server error (request req-1)"},
	}
	ctx := context.WithValue(context.Background(), middleware.RequestIDKey, "req-1")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs testkit.Buffer
			we := describe(ctx, slog.New(slog.NewTextHandler(&logs, nil)), tt.err)
			if code, text := we.fault(); code != tt.fault || text != tt.faultText {
				t.Errorf("fault = %d %q, want %d %q", code, text, tt.fault, tt.faultText)
			}
			if code, text := we.legacyFault(); code != tt.legacyCode || text != tt.legacyText {
				t.Errorf("legacy fault = %q %q, want %q %q", code, text, tt.legacyCode, tt.legacyText)
			}
			je := we.JSON()
			wantMsg := "Odoo Server Error"
			if tt.jsonCode == 100 {
				wantMsg = "Odoo Session Expired"
			}
			if je.Code != tt.jsonCode || je.Message != wantMsg || je.Data.Name != tt.jsonName ||
				je.Data.Message != tt.jsonMsg || je.Data.Debug != tt.debug {
				t.Errorf("json error = %+v, want %d %s %q %q", je, tt.jsonCode, tt.jsonName, tt.jsonMsg, tt.debug)
			}
			if len(je.Data.Arguments) != 1 || je.Data.Arguments[0] != tt.jsonMsg || je.Data.Context == nil {
				t.Errorf("arguments/context = %v %v", je.Data.Arguments, je.Data.Context)
			}
			internal := strings.Contains(tt.debug, "InternalError")
			logged := strings.Contains(logs.String(), "request_id=req-1")
			if internal != logged {
				t.Errorf("logged = %v, want %v: %s", logged, internal, logs.String())
			}
			if internal && !strings.Contains(logs.String(), tt.err.Error()) {
				t.Errorf("log lacks the cause: %s", logs.String())
			}
		})
	}
}

// TestDescribeLogsCall checks that an internal error names its call in the
// log, so the request id leads to the model and method.
func TestDescribeLogsCall(t *testing.T) {
	var logs testkit.Buffer
	err := &callError{service: "object", method: "search", model: "mqtt.broker", err: errors.New("boom")}
	describe(context.Background(), slog.New(slog.NewTextHandler(&logs, nil)), err)
	for _, want := range []string{"method=search", "model=mqtt.broker", "service=object", "boom"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log %q lacks %q", logs.String(), want)
		}
	}
}
