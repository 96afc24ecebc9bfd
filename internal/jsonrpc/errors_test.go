package jsonrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// TestDescribe checks the one table: every kind, the session and size
// errors, and internal errors, which are logged and reduced to the id.
func TestDescribe(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    int    // XML-RPC fault code
		pyName  string // data.name
		message string
		json    int // JSON-RPC error code
		logged  bool
	}{
		{"access denied", models.ErrAccessDenied, FaultAccessDenied, NameAccessDenied, models.MessageOf(models.ErrAccessDenied), CodeServerError, false},
		{"access", models.AccessErrorf("no"), FaultAccessError, NameAccessError, "no", CodeServerError, false},
		{"user", models.UserErrorf("u"), FaultWarning, NameUserError, "u", CodeServerError, false},
		{"validation", models.ValidationErrorf("v"), FaultWarning, NameValidationError, "v", CodeServerError, false},
		{"missing, wrapped", fmt.Errorf("ctx: %w", models.MissingErrorf("gone")), FaultWarning, NameMissingError, "gone", CodeServerError, false},
		{"value", models.ValueErrorf("x"), FaultApplicationError, NameValueError, "x", CodeServerError, false},
		{"type", models.TypeErrorf("t"), FaultApplicationError, NameTypeError, "t", CodeServerError, false},
		{"attribute", models.AttributeErrorf("a"), FaultApplicationError, NameAttributeError, "a", CodeServerError, false},
		{"key", models.KeyErrorf("k"), FaultApplicationError, NameKeyError, "k", CodeServerError, false},
		{"session expired", models.ErrSessionExpired, FaultApplicationError, NameSessionExpired, TextSessionExpired, CodeSessionExpired, false},
		{"too large", &http.MaxBytesError{Limit: 10}, FaultApplicationError, NameTooLarge, TextTooLarge + " (limit 10 bytes)", CodeServerError, false},
		{"internal", models.Internal("read", errors.New("disk on fire")), FaultApplicationError, NameException, "internal server error (request req-1)", CodeServerError, true},
		{"unclassified", errors.New("pq: secret"), FaultApplicationError, NameException, "internal server error (request req-1)", CodeServerError, true},
	}
	ctx := context.WithValue(context.Background(), middleware.RequestIDKey, "req-1")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			f := Describe(ctx, slog.New(slog.NewTextHandler(&logs, nil)), tt.err)
			if f.Code != tt.code || f.Name != tt.pyName || f.Message != tt.message {
				t.Errorf("failure = %+v, want %d %s %q", f, tt.code, tt.pyName, tt.message)
			}
			je := f.JSON()
			if je.Code != tt.json || je.Data.Name != tt.pyName || je.Data.Message != tt.message ||
				len(je.Data.Arguments) != 1 || je.Data.Arguments[0] != tt.message || je.Data.Context == nil {
				t.Errorf("json = %+v", je)
			}
			if logged := strings.Contains(logs.String(), "request_id=req-1"); logged != tt.logged {
				t.Errorf("logged = %v, want %v: %s", logged, tt.logged, logs.String())
			}
			if tt.logged && !strings.Contains(logs.String(), tt.err.Error()) {
				t.Errorf("log lacks the cause: %s", logs.String())
			}
			if tt.logged && strings.Contains(f.Message+f.Debug, tt.err.Error()) {
				t.Errorf("the client sees the cause: %+v", f)
			}
		})
	}
}

type attrErr struct{ error }

func (attrErr) LogAttrs() []any { return []any{slog.String("model", "m.x")} }

// TestInternalWithoutRequestID: a request without chi's id still gets one,
// the same in the log and in the client's message; LogAttrs are logged.
func TestInternalWithoutRequestID(t *testing.T) {
	var logs bytes.Buffer
	f := Internal(context.Background(), slog.New(slog.NewTextHandler(&logs, nil)), fmt.Errorf("w: %w", attrErr{errors.New("boom")}))
	id := strings.TrimSuffix(strings.TrimPrefix(f.Message, "internal server error (request "), ")")
	if len(id) != 16 || !strings.Contains(logs.String(), "request_id="+id) || !strings.Contains(logs.String(), "model=m.x") {
		t.Fatalf("message %q, log %s", f.Message, logs.String())
	}
}

func TestBind(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]int
		want   string
	}{
		{"ok", map[string]int{"a": 1, "b": 1, "c": 1}, ""},
		{"optional absent", map[string]int{"a": 1, "b": 1}, ""},
		{"unexpected", map[string]int{"a": 1, "b": 1, "x": 1}, "f() got an unexpected keyword argument 'x'"},
		{"missing one", map[string]int{"a": 1}, "f() missing 1 required positional argument: 'b'"},
		{"missing two", map[string]int{}, "f() missing 2 required positional arguments: 'a' and 'b'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Bind("f", tt.params, []string{"a", "b"}, []string{"c"})
			got := ""
			if err != nil {
				got = models.MessageOf(err)
				if models.KindOf(err) != models.KindType {
					t.Errorf("kind %v, want TypeError", models.KindOf(err))
				}
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
