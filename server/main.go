// Command odoo-iot-mqtt is the server: it speaks Odoo 16's XML-RPC and
// JSON-RPC so Odoo clients manage MQTT brokers, subscriptions, signals and
// message history through it.
//
// This package wires everything: configuration, logging, the database and
// model registry, the HTTP handlers, background jobs and shutdown. It holds
// no business rules.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code, so tests
// can drive it.
func run(args, environ []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if cmd, ok := subcommands()[args[0]]; ok {
			return cmd.run(args[1:], environ, stdout, stderr)
		}
	}
	cfg, err := LoadConfig(args, environ)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, err)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "odoo-iot-mqtt: configuration:", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app, err := start(ctx, cfg, log)
	if err != nil {
		log.Error("Unable to start", slog.Any("error", err))
		return 1
	}
	<-ctx.Done()
	log.Info("Shutting down")
	if err := app.shutdown(); err != nil {
		log.Error("Unclean shutdown", slog.Any("error", err))
		return 1
	}
	log.Info("Stopped")
	return 0
}

// newLogger builds the one slog handler of the process.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	log := slog.New(h)
	slog.SetDefault(log)
	return log
}
