package main

// The in-process MQTT broker of --embedded-broker (mochi-mqtt), for
// development and demos. The listener reaches it over TCP like any broker.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"syscall"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// embeddedBroker is a running in-process broker.
type embeddedBroker struct {
	srv  *mochi.Server
	host string // where devices connect: the listen host, or 127.0.0.1 when it listens on all addresses
	port int
	// fallback: addr's port was taken and the broker listens on another,
	// which the server pins for the next starts (embedded_broker_pin.go).
	fallback bool
}

// addr is host:port for devices and clients.
func (b *embeddedBroker) addr() string { return net.JoinHostPort(b.host, strconv.Itoa(b.port)) }

// startEmbeddedBroker listens on addr, or, when addr's port is taken (a
// system Mosquitto on 1883, say), on a fallback port of the same host:
// pinned, the one an earlier start fell back to, when it is free, else a
// free one (b.fallback says which port to pin for the next starts). It
// serves MQTT there with every client allowed and logs the address
// devices should use.
func startEmbeddedBroker(addr string, pinned int, log *slog.Logger) (*embeddedBroker, error) {
	ln, err := net.Listen("tcp", addr)
	fallback := false
	if errors.Is(err, syscall.EADDRINUSE) {
		fallback = true
		host, _, _ := net.SplitHostPort(addr)
		if pinned > 0 {
			ln, err = net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(pinned)))
			if err == nil {
				log.Warn("Embedded MQTT broker: address in use, listening on the pinned fallback port of earlier starts",
					slog.String("wanted", addr), slog.String("addr", ln.Addr().String()))
			} else {
				// Said loudly: devices pointed at the pinned port no longer
				// reach the broker until they are moved.
				log.Warn("Embedded MQTT broker: address in use and the pinned fallback port too, listening on a new free port (pinned from now on); devices pointed at the old port must be moved",
					slog.String("wanted", addr), slog.Int("pinned_port", pinned), slog.Any("error", err))
			}
		}
		if pinned <= 0 || err != nil {
			ln, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
			if err == nil && pinned <= 0 {
				log.Warn("Embedded MQTT broker: address in use, listening on a free port instead; point devices at the new address",
					slog.String("wanted", addr), slog.String("addr", ln.Addr().String()))
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("embedded broker: listen on %s: %w", addr, err)
	}
	tcp := ln.Addr().(*net.TCPAddr)
	b := &embeddedBroker{host: tcp.IP.String(), port: tcp.Port, fallback: fallback}
	if tcp.IP.IsUnspecified() {
		b.host = "127.0.0.1"
	}
	// mochi logs each start and stop step at Info; keep its warnings only.
	quiet := slog.New(mochiLog{log.Handler().WithAttrs([]slog.Attr{slog.String("component", "embedded_broker")})})
	b.srv = mochi.New(&mochi.Options{Logger: quiet})
	for _, h := range []mochi.Hook{new(auth.AllowHook), newPacketIDHook()} {
		if err := b.srv.AddHook(h, nil); err != nil {
			ln.Close()
			return nil, fmt.Errorf("embedded broker: %w", err)
		}
	}
	if err := b.srv.AddListener(listeners.NewNet("tcp", ln)); err != nil {
		ln.Close()
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	if err := b.srv.Serve(); err != nil { // starts its goroutines and returns
		b.srv.Close()
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	log.Info("Embedded MQTT broker listening", slog.String("addr", b.addr()), slog.String("url", "mqtt://"+b.addr()))
	return b, nil
}

// close disconnects every client, stops the listener and waits for the
// client goroutines.
func (b *embeddedBroker) close() {
	_ = b.srv.Close() // always nil
}

// mochiLog passes on mochi's warnings and errors, except the empty-message
// warning mochi v2.7.9 logs for every connection that ends, even a client's
// clean DISCONNECT (its read fails on the closed socket).
type mochiLog struct{ slog.Handler }

func (h mochiLog) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h mochiLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "" {
		closed := false
		r.Attrs(func(a slog.Attr) bool {
			if err, ok := a.Value.Any().(error); ok && (errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF)) {
				closed = true
			}
			return !closed
		})
		if closed {
			return nil
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h mochiLog) WithAttrs(as []slog.Attr) slog.Handler { return mochiLog{h.Handler.WithAttrs(as)} }

func (h mochiLog) WithGroup(name string) slog.Handler { return mochiLog{h.Handler.WithGroup(name)} }
