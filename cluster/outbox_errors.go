package cluster

import (
	"context"
	"errors"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/listener"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// An owner's error crosses the database as its text plus a code naming
// the sentinel it wraps, if any, so that the caller's errors.Is checks
// (the models fall back to a short-lived subscription on
// ErrDaemonNotRunning, say) behave as if the call had run locally.

// errorCodes are the sentinels that keep their identity across instances.
var errorCodes = []struct {
	code string
	err  error
}{
	{"daemon_not_running", mqttmodel.ErrDaemonNotRunning},
	{"no_owner", listener.ErrNoOwner},
	{"deadline_exceeded", context.DeadlineExceeded},
	{"canceled", context.Canceled},
}

// codeExpired marks a call nobody carried out before its deadline.
const codeExpired = "expired"

// errorCode returns the code of the first sentinel err wraps, or "".
func errorCode(err error) string {
	for _, c := range errorCodes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// RemoteError is an error the owning instance returned for a forwarded
// call: its text is the owner's, unchanged (the models show it in their
// user errors), and it unwraps to the sentinel the owner's error wrapped.
type RemoteError struct {
	Text string
	Code string
}

func (e *RemoteError) Error() string { return e.Text }

// Unwrap returns the sentinel named by the code (an expired call is a
// forward timeout), or nil.
func (e *RemoteError) Unwrap() error {
	if e.Code == codeExpired {
		return listener.ErrForwardTimeout
	}
	for _, c := range errorCodes {
		if c.code == e.Code {
			return c.err
		}
	}
	return nil
}
