package main

// Validating, inspecting and redacting a Config.

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/keyring"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"time"
)

// configProblem is one validation failure; its text starts with the flag name.
type configProblem struct {
	setting string // option name, without dashes
	msg     string
}

func (p configProblem) Error() string { return "--" + p.setting + ": " + p.msg }

// Validate checks every setting and reports all problems at once, joined
// with errors.Join. Each message starts with the flag name of the setting.
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.problems() {
		errs = append(errs, p)
	}
	return errors.Join(errs...)
}

func (c Config) problems() []configProblem {
	var ps []configProblem
	add := func(setting, format string, args ...any) {
		ps = append(ps, configProblem{setting: setting, msg: fmt.Sprintf(format, args...)})
	}

	if host, port, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		add("http-addr", "invalid address %q (want host:port, e.g. :8069 or 127.0.0.1:8069)", c.HTTPAddr)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		add("http-addr", "invalid port %q (want 0-65535)", port)
	} else if strings.ContainsAny(host, " \t/") {
		add("http-addr", "invalid host %q", host)
	}

	if msg := configDBProblem(c.DB); msg != "" {
		add("db", "%s", msg)
	}

	if c.DBName == "" {
		add("db-name", "must not be empty")
	} else if strings.IndexFunc(c.DBName, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-')
	}) >= 0 {
		add("db-name", "invalid name %q (only letters, digits, _ . and - are allowed)", c.DBName)
	}

	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		add("log-level", "invalid level %q (want debug, info, warn or error)", c.LogLevel)
	}
	if !slices.Contains([]string{"text", "json"}, c.LogFormat) {
		add("log-format", "invalid format %q (want text or json)", c.LogFormat)
	}
	if c.MaxRequestBytes < configMinRequestBytes {
		add("max-request-bytes", "must be at least %d, got %d", configMinRequestBytes, c.MaxRequestBytes)
	}
	if c.SessionMaxAge < configMinSessionMaxAge {
		add("session-max-age", "must be at least %s, got %s", configMinSessionMaxAge, c.SessionMaxAge)
	}
	if c.LoginRateLimit < 1 {
		add("login-rate-limit", "must be at least 1, got %d", c.LoginRateLimit)
	}
	if c.LoginUserRateLimit < 1 {
		add("login-user-rate-limit", "must be at least 1, got %d", c.LoginUserRateLimit)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"http-header-timeout", c.HTTPHeaderTimeout}, {"http-body-timeout", c.HTTPBodyTimeout}, {"http-idle-timeout", c.HTTPIdleTimeout}} {
		if d.v < time.Second {
			add(d.name, "must be at least 1s, got %s", d.v)
		}
	}
	if c.MaxRequestsPerAddr < 0 {
		add("max-requests-per-addr", "must be 0 (no cap) or more, got %d", c.MaxRequestsPerAddr)
	}
	if c.MaxStreamsPerAddr < 0 {
		add("max-streams-per-addr", "must be 0 (no cap) or more, got %d", c.MaxStreamsPerAddr)
	}
	if len(c.TrustedProxies) > 0 && !c.ProxyMode {
		add("trusted-proxies", "has no effect without --proxy-mode (set --proxy-mode, or leave --trusted-proxies empty)")
	}
	for _, p := range c.TrustedProxies {
		if p.Bits() == 0 {
			add("trusted-proxies", "%s trusts every address, so any client could name its own address in X-Forwarded-For; list the proxies' addresses (or leave it empty to trust the peer as one hop)", p)
		}
	}
	if c.ShutdownTimeout <= 0 {
		add("shutdown-timeout", "must be positive, got %s", c.ShutdownTimeout)
	}
	if c.EmbeddedBroker != "" {
		if _, port, err := net.SplitHostPort(c.EmbeddedBroker); err != nil {
			add("embedded-broker", "invalid address %q (want host:port, e.g. 127.0.0.1:1883)", c.EmbeddedBroker)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			add("embedded-broker", "invalid port %q (want 0-65535)", port)
		}
	}
	if c.SecretKey != "" {
		if _, err := keyring.Parse("--secret-key", c.SecretKey); err != nil {
			// The message quotes no part of the value.
			add("secret-key", "want one or more comma-separated keys, each %d random bytes in base64 (e.g. from openssl rand -base64 32)", keyring.KeySize)
		}
	}
	if c.Demo && c.EmbeddedBroker == "" {
		add("demo", "needs --embedded-broker (the demo devices run on the embedded broker), e.g. --embedded-broker 127.0.0.1:1883")
	}
	if _, err := models.ParseGrain(c.HistoryPartition); err != nil || c.HistoryPartition == "" {
		add("history-partition", "want day or month, got %q", c.HistoryPartition)
	}
	if c.HistoryPurgeInterval < configMinPurgeInterval || c.HistoryPurgeInterval > configMaxPurgeInterval {
		add("history-purge-interval", "must be between %s and %s, got %s", configMinPurgeInterval, configMaxPurgeInterval, c.HistoryPurgeInterval)
	}
	for _, q := range []struct {
		setting string
		n       int64
	}{{"ingest-queue-bytes", c.IngestQueueBytes}, {"device-queue-bytes", c.DeviceQueueBytes}} {
		if q.n < configMinQueueBytes || q.n > math.MaxInt32 {
			add(q.setting, "must be between %d and %d, got %d", configMinQueueBytes, math.MaxInt32, q.n)
		}
	}
	return ps
}

// configDBProblem returns what is wrong with a --db value, or "". The value
// itself is never quoted: it may hold a password.
func configDBProblem(db string) string {
	const want = "(want sqlite:PATH or postgres://...)"
	if db == "" {
		return "must not be empty " + want
	}
	scheme, rest, ok := strings.Cut(db, ":")
	if !ok || !configValidScheme(scheme) {
		return "missing scheme " + want
	}
	switch strings.ToLower(scheme) {
	case "sqlite":
		if strings.HasPrefix(rest, "//") {
			return "write sqlite:PATH (sqlite:data/x.db or sqlite:/abs/x.db), not a sqlite:// URL"
		}
		if strings.TrimSpace(rest) == "" {
			return "sqlite: needs a path (e.g. sqlite:data/odoo-iot-mqtt.db)"
		}
		return ""
	case "postgres", "postgresql":
		u, err := url.Parse(db)
		if err != nil {
			if strings.Contains(db, "@") {
				// The parser's message may quote part of the password: an
				// unescaped / or # in it ends the host early.
				return "invalid postgres URL (percent-encode special characters in the user and password)"
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // url.Error quotes the whole URL
			}
			return fmt.Sprintf("invalid postgres URL: %v", err)
		}
		if u.Opaque != "" {
			return "invalid postgres URL: want postgres://user:pass@host:5432/name"
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return "postgres URL needs a host (postgres://user:pass@host/name) or a host= parameter (e.g. ?host=/var/run/postgresql)"
		}
		return ""
	}
	return fmt.Sprintf("unsupported scheme %q %s", scheme, want)
}

func configValidScheme(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return true
}

// SQLitePath returns PATH for a DB of the form sqlite:PATH, and false for
// any other (or invalid) DB.
func (c Config) SQLitePath() (string, bool) {
	scheme, rest, ok := strings.Cut(c.DB, ":")
	if !ok || !strings.EqualFold(scheme, "sqlite") || configDBProblem(c.DB) != "" {
		return "", false
	}
	return rest, true
}

// Redacted lists the settings as sorted "name=value" lines for logs and the
// admin pages. The admin password and any password in a database URL show as
// <redacted>; an empty admin password shows as empty.
func (c Config) Redacted() []string {
	lines := make([]string, 0, len(configOptions))
	for _, o := range configOptions {
		v := o.get(c)
		switch {
		case o.secret && v != "":
			v = configRedacted
		case o.name == "db":
			v = redactConfigDB(v)
		}
		lines = append(lines, o.name+"="+v)
	}
	slices.Sort(lines)
	return lines
}

// redactConfigDB hides the password of a database URL, in the user info or
// in a password= parameter. A value that does not parse is hidden whole.
func redactConfigDB(db string) string {
	if _, ok := (Config{DB: db}).SQLitePath(); ok {
		return db
	}
	if !strings.Contains(db, "://") {
		if strings.Contains(strings.ToLower(db), "password") {
			return configRedacted // e.g. a mistaken key=value DSN
		}
		return db
	}
	u, err := url.Parse(db)
	if err != nil || strings.Contains(u.Path+u.Fragment, "@") { // a password with an unescaped / or #
		return configRedacted
	}
	const mark = "REDACTEDxPASSWORD" // unreserved characters only, so never escaped
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), mark)
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", mark)
		u.RawQuery = q.Encode()
	}
	return strings.ReplaceAll(u.String(), mark, configRedacted)
}
