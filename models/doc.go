// Package models is the record engine, Odoo's odoo/models.py, fields.py
// and osv/expression.py in one: model declarations, field kinds and value
// conversion, the domain and order compilers, the generic ORM methods
// clients call (search, read, write, read_group, ...), access groups and
// record rules, error kinds, the schema, sessions and credentials, and the
// base addon's models (res.users, res.groups, res.users.apikeys,
// ir.config_parameter, ir.model, ir.model.fields).
//
// Everything else is an addon (see Addon): a package under models/ that
// declares its models, groups, bus channels and extensions of other
// addons' models in one Manifest, and is handed to New by the server.
// Every model is declared once; everything generic (fields_get, read
// formats, write conversion, domains over its fields, access checks,
// ir.model rows) derives from that declaration.
//
// The engine knows no addon: it imports none and names none of their
// models, groups or channels. It knows nothing of HTTP, wire codecs or
// MQTT clients either.
package models
