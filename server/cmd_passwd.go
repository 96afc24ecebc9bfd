package main

// The passwd subcommand: the operator's way back in when the admin
// password is lost (--admin-password only applies when the database is
// created).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/rules"
)

const passwdUsage = `Usage: odoo-iot-mqtt passwd [--login LOGIN] [flags]

Sets the password of user LOGIN (default admin) in the database that the
server's settings name: --db and -c FILE, the ODOO_IOT_MQTT_* variables
and the config file work as for the server (odoo-iot-mqtt --help lists
them); the other settings are read and ignored. The new password is read
from standard input: on a terminal it is asked for twice, without echo;
otherwise the first line is the password (printf '%s\n' "$PW" | ...).

The old password and every web session of the user stop working at once;
a running server accepts the new password within seconds. The database
must exist (the server creates it on its first start); its schema is
migrated first, as the server would at its next start. Archived users get
the password but stay unable to log in until reactivated.

Exit status: 0 done, 1 failed (no such user, database unreachable), 2 bad
usage.
`

// runPasswd is `odoo-iot-mqtt passwd`, with args after "passwd".
func runPasswd(args, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	login, rest, err := passwdArgs(args)
	if errors.Is(err, errPasswdHelp) {
		io.WriteString(stdout, passwdUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "odoo-iot-mqtt passwd:", err)
		return 2
	}
	cfg, err := LoadConfig(rest, environ)
	if err != nil {
		fmt.Fprintln(stderr, "odoo-iot-mqtt passwd: configuration:", err)
		return 2
	}
	password, err := readNewPassword(stdin, stderr, login)
	if err != nil {
		fmt.Fprintln(stderr, "odoo-iot-mqtt passwd:", err)
		return 1
	}
	log := newLogger(cfg, stderr)
	reset, err := setPassword(context.Background(), cfg, log, login, password)
	if err != nil {
		fmt.Fprintln(stderr, "odoo-iot-mqtt passwd:", err)
		return 1
	}
	fmt.Fprintf(stdout, "Password of user %s (uid %d) changed; its web sessions have ended.\n", login, reset.UID)
	if !reset.Active {
		fmt.Fprintf(stdout, "User %s is archived: it cannot log in until an administrator reactivates it.\n", login)
	}
	return 0
}

var errPasswdHelp = errors.New("help")

// passwdArgs takes --login out of args (one or two dashes, "--login X" or
// "--login=X") and leaves the server's flags.
func passwdArgs(args []string) (login string, rest []string, err error) {
	login = "admin"
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case !strings.HasPrefix(a, "-"):
			rest = append(rest, a)
		case name == "h" || name == "help":
			return "", nil, errPasswdHelp
		case name == "login":
			if !hasValue {
				if i+1 == len(args) {
					return "", nil, errors.New("--login needs a value")
				}
				i++
				value = args[i]
			}
			if value = strings.TrimSpace(value); value == "" {
				return "", nil, errors.New("--login must not be empty")
			}
			login = value
		default:
			rest = append(rest, a)
		}
	}
	return login, rest, nil
}

// readNewPassword reads the password from in: twice without echo when in
// is a terminal, else its first line.
func readNewPassword(in io.Reader, prompt io.Writer, login string) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(prompt, "New password for %s: ", login)
		pw, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		fmt.Fprint(prompt, "Again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		if string(pw) != string(again) {
			return "", errors.New("the two passwords differ; nothing changed")
		}
		if len(pw) == 0 {
			return "", errors.New("empty password; nothing changed")
		}
		return string(pw), nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password on standard input (give it as the first line); nothing changed")
	}
	return line, nil
}

// setPassword opens the configured database, refuses one that was never
// created, migrates it as the server would, and sets the password.
func setPassword(ctx context.Context, cfg Config, log *slog.Logger, login, password string) (models.PasswordReset, error) {
	if path, ok := cfg.SQLitePath(); ok {
		// Opening a missing SQLite file would create an empty database.
		if _, err := os.Stat(path); err != nil {
			return models.PasswordReset{}, fmt.Errorf("no database at %s (%w); the server creates it on its first start", path, err)
		}
	}
	db, dialect, err := models.OpenDB(cfg.DB)
	if err != nil {
		return models.PasswordReset{}, err
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	mqttAddon := mqtt.New(mqtt.Options{}) // no listener: passwd touches no broker
	iotAddon := iotdevice.New(mqttAddon, iotdevice.Options{})
	reg, err := models.New(models.Options{DB: db, Dialect: dialect, Logger: log}, mqttAddon, iotAddon, rules.New(mqttAddon, iotAddon, rules.Options{}))
	if err != nil {
		return models.PasswordReset{}, err
	}
	has, err := reg.HasUsers(ctx)
	if err != nil {
		return models.PasswordReset{}, fmt.Errorf("the database was never initialised (start the server once to create it): %w", err)
	}
	if !has {
		return models.PasswordReset{}, fmt.Errorf("the database has no users yet (start the server once to create it): %w", models.ErrNoUsers)
	}
	if err := reg.Migrate(ctx); err != nil {
		return models.PasswordReset{}, err
	}
	return reg.SetPassword(ctx, login, password)
}
