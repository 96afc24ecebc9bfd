package rpc

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/rpc/xmlrpc"
)

// serveXMLRPC handles POST /xmlrpc/2/{service} (integer fault codes) and,
// with legacy set, POST /xmlrpc/{service} (string fault codes, §1.7).
// Every answer, fault or not, is HTTP 200 text/xml as in Odoo (§1.1).
func (s *server) serveXMLRPC(legacy bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := s.xmlrpcCall(w, r)
		if err != nil {
			body = s.xmlrpcFault(r, err, legacy)
		}
		writeXML(w, body)
	}
}

// xmlrpcCall decodes, dispatches and encodes one call.
func (s *server) xmlrpcCall(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	// Passing w makes net/http close the connection after an oversized body.
	body := http.MaxBytesReader(w, r.Body, s.opts.MaxRequestBytes)
	method, params, err := xmlrpc.DecodeCall(body)
	if err != nil {
		return nil, decodeError(err)
	}
	result, err := s.dispatch(r.Context(), chi.URLParam(r, "service"), method, params)
	if err != nil {
		return nil, err
	}
	out, err := xmlrpc.EncodeResponse(result)
	if err != nil {
		// Odoo marshals with allow_none=False, so a None anywhere in a
		// result is a TypeError fault after the call has committed; other
		// failures (int keys, unknown types) are the same TypeError there.
		// Clients are used to it, but it usually means a method should
		// return False instead, so it is worth a line in the log.
		s.log.WarnContext(r.Context(), "XML-RPC result cannot be marshalled",
			slog.String("request_id", middleware.GetReqID(r.Context())), slog.String("method", method), slog.Any("error", err))
		return nil, &pyError{name: jsonrpc.NameTypeError, msg: strings.TrimPrefix(err.Error(), "xmlrpc: ")}
	}
	return out, nil
}

// decodeError turns a DecodeCall failure into the error a client sees.
// A body over the limit keeps its *http.MaxBytesError so that the mapping
// names the limit; anything else is what Python's expat would reject.
func decodeError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return tooLarge
	}
	if errors.Is(err, xmlrpc.ErrMalformed) {
		return &pyError{name: nameExpatError, msg: strings.TrimPrefix(err.Error(), "xmlrpc: ")}
	}
	return &pyError{name: nameExpatError, msg: "cannot read request body"}
}

// xmlrpcFault encodes err as a fault of the route's flavour.
func (s *server) xmlrpcFault(r *http.Request, err error, legacy bool) []byte {
	we := describe(r.Context(), s.log, err)
	if legacy {
		code, text := we.legacyFault()
		return xmlrpc.EncodeFault(code, text)
	}
	code, text := we.fault()
	return xmlrpc.EncodeFault(code, text)
}

func writeXML(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
