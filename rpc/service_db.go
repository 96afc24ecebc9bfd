package rpc

import (
	"context"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// dbMethods is the part of the db service (odoo/service/db.py, §1.3) that
// needs no master password.
var dbMethods = map[string]serviceFunc{
	"list":           dbList,
	"server_version": dbServerVersion,
	"db_exist":       dbExist,
	"list_lang":      dbListLang,
}

// dbMasterMethods take the master password first. This server manages one
// database and has no master password, so each answers AccessDenied, which
// is what Odoo answers for a wrong password (fault 3).
var dbMasterMethods = map[string]bool{
	"create_database":       true,
	"duplicate_database":    true,
	"drop":                  true,
	"dump":                  true,
	"restore":               true,
	"rename":                true,
	"change_admin_password": true,
	"migrate_databases":     true,
	"list_countries":        true,
}

func dispatchDB(s *server, ctx context.Context, method string, params []any) (any, error) {
	if fn, ok := dbMethods[method]; ok {
		return fn(s, ctx, method, params)
	}
	if dbMasterMethods[method] {
		return nil, models.ErrAccessDenied
	}
	// db.dispatch raises KeyError("Method not found: ..."), and str() of a
	// KeyError is the repr of its argument.
	return nil, models.KeyErrorf("%s", py.Repr("Method not found: "+method))
}

// dbList is list(): AccessDenied when listing is disabled (Odoo's list_db).
func dbList(s *server, ctx context.Context, method string, params []any) (any, error) {
	if err := checkArgs("exp_list", params, []string{"document"}, 0); err != nil {
		return nil, err
	}
	return s.databases()
}

// databases is the list db.list and /web/database/list return.
func (s *server) databases() (any, error) {
	if !s.opts.ListDB {
		return nil, models.ErrAccessDenied
	}
	return []any{s.opts.DBName}, nil
}

func dbServerVersion(s *server, ctx context.Context, method string, params []any) (any, error) {
	if err := checkArgs("exp_server_version", params, nil, 0); err != nil {
		return nil, err
	}
	return serverVersion, nil
}

func dbExist(s *server, ctx context.Context, method string, params []any) (any, error) {
	if err := checkArgs("exp_db_exist", params, []string{"db_name"}, 1); err != nil {
		return nil, err
	}
	name, ok := params[0].(string)
	return ok && name == s.opts.DBName, nil
}

func dbListLang(s *server, ctx context.Context, method string, params []any) (any, error) {
	if err := checkArgs("exp_list_lang", params, nil, 0); err != nil {
		return nil, err
	}
	return langList, nil
}
