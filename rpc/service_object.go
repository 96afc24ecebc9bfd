package rpc

import (
	"context"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// dispatchObject is the object service (odoo/service/model.py, §1.4). The
// order of the checks decides which error a client sees, so it follows
// Odoo's: database, uid, credentials, then the method name; the model and
// the model method are looked up by models.Execute.
func dispatchObject(s *server, ctx context.Context, method string, params []any) (any, error) {
	if len(params) < 3 {
		return nil, models.TypeErrorf("%s() needs db, uid and password as its first 3 arguments, got %d arguments", method, len(params))
	}
	if err := s.checkDB(params[0]); err != nil {
		return nil, err
	}
	uid, err := parseUID(params[1])
	if err != nil {
		return nil, err
	}
	if err := s.checkCredentials(ctx, uid, secret(params[2])); err != nil {
		return nil, err
	}
	switch method {
	case "execute":
		return s.objectExecute(ctx, uid, params[3:])
	case "execute_kw":
		return s.objectExecuteKw(ctx, uid, params[3:])
	}
	return nil, &pyError{name: nameNameError, msg: "Method not available " + method}
}

// objectExecute is execute(db, uid, password, model, method, *args):
// positional arguments only (erppeek's style).
func (s *server) objectExecute(ctx context.Context, uid int64, rest []any) (any, error) {
	// Python counts db and uid, not the password, in execute's arity.
	if len(rest) < 2 {
		return nil, checkArgs("execute", append([]any{nil, nil}, rest...), []string{"db", "uid", "obj", "method"}, 4)
	}
	return s.execute(ctx, uid, rest[0], rest[1], rest[2:], nil)
}

// objectExecuteKw is execute_kw(db, uid, password, model, method, args,
// kwargs=None).
func (s *server) objectExecuteKw(ctx context.Context, uid int64, rest []any) (any, error) {
	names := []string{"db", "uid", "obj", "method", "args", "kw"}
	if err := checkArgs("execute_kw", append([]any{nil, nil}, rest...), names, 5); err != nil {
		return nil, err
	}
	args, ok := rest[2].([]any)
	if !ok {
		return nil, models.TypeErrorf("execute_kw() args must be a list, not %s", py.TypeName(rest[2]))
	}
	var kwargs map[string]any
	if len(rest) == 4 && py.Truthy(rest[3]) {
		// Odoo does kw = kw or {}: None and False mean no keywords.
		if kwargs, ok = rest[3].(map[string]any); !ok {
			return nil, models.TypeErrorf("execute_kw() kwargs must be a dict, not %s", py.TypeName(rest[3]))
		}
	}
	return s.execute(ctx, uid, rest[0], rest[1], args, kwargs)
}

// execute runs a model method for uid; errors carry the call for the log.
func (s *server) execute(ctx context.Context, uid int64, model, method any, args []any, kwargs map[string]any) (any, error) {
	name, ok := method.(string)
	if !ok {
		return nil, models.TypeErrorf("method name must be a string, not %s", py.TypeName(method))
	}
	// A model that is not a string can't exist; models says so in Odoo's
	// words ("Object 5 doesn't exist").
	call := models.Call{UID: uid, Model: py.Text(model), Method: name, Args: args, Kwargs: kwargs}
	res, err := s.reg.Execute(ctx, call)
	if err != nil {
		return nil, &callError{service: "object", method: call.Method, model: call.Model, err: err}
	}
	return res, nil
}
