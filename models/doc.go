// Package models is the record layer: model declarations, field kinds and
// value conversion, the domain and order compilers, the generic ORM methods
// Odoo clients call (search, read, write, ...), access rules, error kinds,
// the schema, and the MQTT and base models (res.users, ir.model, ...).
//
// Every model is declared once as a *Model in a Registry. Everything generic
// (fields_get, read formats, write conversion, domains over its fields,
// access checks, ir.model rows) derives from that declaration.
//
// The package knows nothing of HTTP, wire codecs or MQTT clients. Work that
// needs a broker connection goes through interfaces this package declares
// and the server wires in.
package models
