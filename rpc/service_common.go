package rpc

import (
	"context"
	"errors"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// commonMethods is the common service (odoo/service/common.py, §1.2).
var commonMethods = map[string]serviceFunc{
	"version":      commonVersion,
	"login":        commonLogin,
	"authenticate": commonAuthenticate,
	"about":        commonAbout,
	"set_loglevel": commonSetLoglevel,
}

func dispatchCommon(s *server, ctx context.Context, method string, params []any) (any, error) {
	fn, ok := commonMethods[method]
	if !ok {
		return nil, &pyError{name: jsonrpc.NameException, msg: "Method not found: " + method}
	}
	return fn(s, ctx, method, params)
}

// versionInfo is common.version(): exactly these four keys, in Odoo's
// order. Clients read server_version_info[0] to choose a protocol.
func versionInfo() *models.Dict {
	d := models.NewDict(4)
	d.Set("server_version", serverVersion)
	d.Set("server_version_info", []any{int64(16), int64(0), int64(0), "final", int64(0), ""})
	d.Set("server_serie", serverSerie)
	d.Set("protocol_version", int64(protocolVersion))
	return d
}

// versionMap is versionInfo as the map models.SessionInfo takes.
func versionMap() map[string]any {
	m := map[string]any{}
	versionInfo().Range(func(k string, v any) bool { m[k] = v; return true })
	return m
}

func commonVersion(s *server, ctx context.Context, method string, params []any) (any, error) {
	if err := checkArgs("exp_version", params, nil, 0); err != nil {
		return nil, err
	}
	return versionInfo(), nil
}

// commonLogin is login(db, login, password): authenticate without the
// user-agent dict.
func commonLogin(s *server, ctx context.Context, method string, params []any) (any, error) {
	if err := checkArgs("exp_login", params, []string{"db", "login", "password"}, 3); err != nil {
		return nil, err
	}
	return s.rpcLogin(ctx, params)
}

// commonAuthenticate is authenticate(db, login, password, user_agent_env);
// the fourth parameter is mandatory in Odoo, and clients send {}.
func commonAuthenticate(s *server, ctx context.Context, method string, params []any) (any, error) {
	if err := checkArgs("exp_authenticate", params, []string{"db", "login", "password", "user_agent_env"}, 4); err != nil {
		return nil, err
	}
	return s.rpcLogin(ctx, params)
}

// rpcLogin returns the uid, or false for bad credentials only: any other
// failure (wrong database, internal error) is a fault, as in Odoo. RPC
// logins are non-interactive, so API keys are accepted. A throttled login
// is a fault too (AccessDenied "Too many login failures..."), where Odoo,
// which does not throttle RPC, has nothing: a client then knows to wait,
// rather than to fix a password that may be right.
func (s *server) rpcLogin(ctx context.Context, params []any) (any, error) {
	if err := s.checkDB(params[0]); err != nil {
		return nil, err
	}
	login, _ := params[1].(string)
	uid, err := s.authenticate(ctx, login, secret(params[2]), false)
	if err != nil {
		if errors.Is(err, errTooManyLogins) {
			return nil, err
		}
		if errors.Is(err, models.ErrAccessDenied) || models.KindOf(err) == models.KindAccessDenied {
			return false, nil
		}
		return nil, err
	}
	return uid, nil
}

// commonAbout is about(extended=False).
func commonAbout(s *server, ctx context.Context, method string, params []any) (any, error) {
	if err := checkArgs("exp_about", params, []string{"extended"}, 0); err != nil {
		return nil, err
	}
	const info = "See http://openerp.com"
	if len(params) == 1 && py.Truthy(params[0]) {
		return []any{info, serverVersion}, nil
	}
	return info, nil
}

// commonSetLoglevel is set_loglevel(loglevel, logger=None); Odoo ignores it
// too, and so do we: logging is configured by the server.
func commonSetLoglevel(s *server, ctx context.Context, method string, params []any) (any, error) {
	if err := checkArgs("exp_set_loglevel", params, []string{"loglevel", "logger"}, 1); err != nil {
		return nil, err
	}
	return true, nil
}
