package main

// Configuration of the server: one plain struct, defaults in one function
// (DefaultConfig), one pure loader (LoadConfig) and one validator (Validate).
// Nothing here is global; main builds a Config and hands each part only what
// it needs.

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the server.
type Config struct {
	HTTPAddr        string        // --http-addr: listen address host:port
	DB              string        // --db: "sqlite:PATH" or a "postgres://" / "postgresql://" URL
	DBName          string        // --db-name: the database name clients pass to authenticate
	AdminPassword   string        // --admin-password: secret; user admin's password when the database is created
	LogLevel        string        // --log-level: debug, info, warn or error
	LogFormat       string        // --log-format: text or json
	MaxRequestBytes int64         // --max-request-bytes: cap on RPC request bodies
	ListDB          bool          // --list-db: whether db.list and /web/database/list answer (Odoo's list_db)
	SessionMaxAge   time.Duration // --session-max-age: lifetime of a web session
	LoginRateLimit  int           // --login-rate-limit: failed web logins allowed per remote address per minute
	ShutdownTimeout time.Duration // --shutdown-timeout: grace period for in-flight requests on stop
}

// DefaultConfig returns the built-in defaults, the lowest-precedence source.
func DefaultConfig() Config {
	return Config{
		HTTPAddr:        ":8069",
		DB:              "sqlite:data/odoo-iot-mqtt.db",
		DBName:          "odoo",
		LogLevel:        "info",
		LogFormat:       "text",
		MaxRequestBytes: 10 << 20,
		ListDB:          true,
		SessionMaxAge:   7 * 24 * time.Hour, // Odoo's session lifetime
		LoginRateLimit:  10,
		ShutdownTimeout: 30 * time.Second,
	}
}

const (
	configEnvPrefix = "ODOO_IOT_MQTT_"
	configEnvFile   = configEnvPrefix + "CONFIG"
	configSection   = "options" // Odoo's section name
	configRedacted  = "<redacted>"
	// configMinSessionMaxAge and configMinRequestBytes are the lower bounds
	// Validate enforces.
	configMinSessionMaxAge = time.Minute
	configMinRequestBytes  = 1024
)

// configOption describes one setting. Its flag is --name, its environment
// variable ODOO_IOT_MQTT_NAME and its config file key name (both with
// underscores).
type configOption struct {
	name   string
	arg    string // placeholder shown in the usage; "" for a boolean
	usage  string
	secret bool
	set    func(c *Config, v string) error
	get    func(c Config) string
}

func (o configOption) envName() string {
	return configEnvPrefix + strings.ToUpper(o.fileKey())
}

func (o configOption) fileKey() string { return strings.ReplaceAll(o.name, "-", "_") }

// apply sets the option in c from v, leaving c untouched if v does not parse.
func (o configOption) apply(c *Config, v string) error {
	next := *c
	if err := o.set(&next, v); err != nil {
		return err
	}
	*c = next
	return nil
}

// configOptions lists every setting, in usage order.
var configOptions = []configOption{
	{name: "http-addr", arg: "ADDR", usage: "HTTP listen address, host:port",
		set: func(c *Config, v string) error { c.HTTPAddr = v; return nil },
		get: func(c Config) string { return c.HTTPAddr }},
	{name: "db", arg: "DSN", usage: "database: sqlite:PATH or postgres://user:pass@host:5432/name",
		set: func(c *Config, v string) error { c.DB = v; return nil },
		get: func(c Config) string { return c.DB }},
	{name: "db-name", arg: "NAME", usage: "database name clients pass to authenticate",
		set: func(c *Config, v string) error { c.DBName = v; return nil },
		get: func(c Config) string { return c.DBName }},
	{name: "admin-password", arg: "SECRET", secret: true, usage: "password of user admin, set when the database is created",
		set: func(c *Config, v string) error { c.AdminPassword = v; return nil },
		get: func(c Config) string { return c.AdminPassword }},
	{name: "log-level", arg: "LEVEL", usage: "debug, info, warn or error",
		set: func(c *Config, v string) error { c.LogLevel = strings.ToLower(v); return nil },
		get: func(c Config) string { return c.LogLevel }},
	{name: "log-format", arg: "FORMAT", usage: "text or json",
		set: func(c *Config, v string) error { c.LogFormat = strings.ToLower(v); return nil },
		get: func(c Config) string { return c.LogFormat }},
	{name: "max-request-bytes", arg: "N", usage: "largest RPC request body accepted, in bytes; at least 1024",
		set: func(c *Config, v string) (err error) { c.MaxRequestBytes, err = parseConfigInt64(v); return err },
		get: func(c Config) string { return strconv.FormatInt(c.MaxRequestBytes, 10) }},
	{name: "list-db", usage: "answer db.list and /web/database/list, as Odoo's list_db; --list-db=false hides them",
		set: func(c *Config, v string) (err error) { c.ListDB, err = parseConfigBool(v); return err },
		get: func(c Config) string { return strconv.FormatBool(c.ListDB) }},
	{name: "session-max-age", arg: "DURATION", usage: "lifetime of a web session; at least 1m",
		set: func(c *Config, v string) (err error) { c.SessionMaxAge, err = parseConfigDuration(v); return err },
		get: func(c Config) string { return c.SessionMaxAge.String() }},
	{name: "login-rate-limit", arg: "N", usage: "failed web logins allowed per remote address per minute; at least 1",
		set: func(c *Config, v string) (err error) { c.LoginRateLimit, err = parseConfigInt(v); return err },
		get: func(c Config) string { return strconv.Itoa(c.LoginRateLimit) }},
	{name: "shutdown-timeout", arg: "DURATION", usage: "how long to wait for in-flight requests on stop",
		set: func(c *Config, v string) (err error) { c.ShutdownTimeout, err = parseConfigDuration(v); return err },
		get: func(c Config) string { return c.ShutdownTimeout.String() }},
}

// configIgnoredOdooKeys are keys of Odoo's own odoo.conf that have no meaning
// here. They are skipped so an existing odoo.conf loads; any other unknown key
// in [options] is an error, to catch typos.
var configIgnoredOdooKeys = []string{
	"addons_path", "admin_passwd", "data_dir", "db_host", "db_password", "db_port",
	"db_user", "logfile", "proxy_mode", "without_demo", "workers",
}

func configOptionByKey(key string) (configOption, bool) {
	for _, o := range configOptions {
		if o.fileKey() == key {
			return o, true
		}
	}
	return configOption{}, false
}

// ConfigUsage returns the usage text: every flag with its default, its
// environment variable and its config file key.
func ConfigUsage() string {
	var b strings.Builder
	b.WriteString(`Usage: odoo-iot-mqtt [flags]

Settings are read from, lowest precedence first: built-in defaults, the config
file, the environment, then flags. A flag set on the command line always wins,
even when set to its default value. Flags take one or two dashes.

The config file is Odoo-style INI: keys in section [options], "key = value",
full-line comments starting with ; or #. Keys are the flag names with
underscores. Odoo's http_port and http_interface are read as http_addr, and
these Odoo keys are ignored so an existing odoo.conf loads:
`)
	width := 0
	for i, k := range configIgnoredOdooKeys {
		if width+len(k) > 72 {
			b.WriteString("\n")
			width = 0
		}
		if width == 0 {
			b.WriteString(" ")
		}
		sep := ","
		if i == len(configIgnoredOdooKeys)-1 {
			sep = ".\n"
		}
		fmt.Fprintf(&b, " %s%s", k, sep)
		width += len(k) + 2
	}
	b.WriteString(`An empty value in the file, or False for a setting that is not a boolean
(Odoo's way of writing "unset"), leaves the setting unchanged; so does an
empty environment variable. Booleans accept true/false, 1/0, yes/no; durations
accept Go syntax (30s, 5m, 168h) or whole seconds. Unknown ODOO_IOT_MQTT_*
variables and unknown [options] keys are errors.

Flags:
  -c, --config FILE
        config file to read (env ODOO_IOT_MQTT_CONFIG)
`)
	def := DefaultConfig()
	for _, o := range configOptions {
		fmt.Fprintf(&b, "  --%s", o.name)
		if o.arg != "" {
			fmt.Fprintf(&b, " %s", o.arg)
		}
		fmt.Fprintf(&b, "\n        %s (", o.usage)
		if v := o.get(def); v != "" {
			fmt.Fprintf(&b, "default %q, ", v)
		}
		fmt.Fprintf(&b, "env %s, file %s)\n", o.envName(), o.fileKey())
	}
	b.WriteString("  -h, --help\n        show this help\n")
	return b.String()
}

// configHelpError is what LoadConfig returns for -h/--help. It unwraps to
// flag.ErrHelp and its text is the usage, so main can print it and exit 0.
type configHelpError struct{ usage string }

func (e *configHelpError) Error() string { return e.usage }
func (e *configHelpError) Unwrap() error { return flag.ErrHelp }

// configFlagValue is the flag.Value of one option. Set checks the value on a
// scratch Config and records it; LoadConfig applies it after the file and the
// environment so flags take precedence.
type configFlagValue struct {
	opt    configOption
	raw    string
	isSet  bool
	setErr *error // where the first parse error is kept, with its flag name
}

func (v *configFlagValue) String() string {
	if v == nil {
		return ""
	}
	return v.raw
}

func (v *configFlagValue) Set(s string) error {
	var scratch Config
	if err := v.opt.set(&scratch, s); err != nil {
		if *v.setErr == nil {
			*v.setErr = fmt.Errorf("--%s: %w", v.opt.name, err)
		}
		return err
	}
	v.raw, v.isSet = s, true
	return nil
}

func (v *configFlagValue) IsBoolFlag() bool { return v.opt.arg == "" }

// configFileFlag is the value of -c and --config.
type configFileFlag struct {
	path  string
	isSet bool
}

func (f *configFileFlag) String() string {
	if f == nil {
		return ""
	}
	return f.path
}

func (f *configFileFlag) Set(s string) error { f.path, f.isSet = s, true; return nil }

// LoadConfig builds the config from defaults < config file (-c/--config FILE
// or ODOO_IOT_MQTT_CONFIG, Odoo-style INI) < environment < flags, then
// validates it. It is pure apart from reading the config file: args are the
// command-line arguments without the program name and environ holds
// "KEY=VALUE" lines, as os.Environ returns them. For -h/--help it returns an
// error that matches flag.ErrHelp and whose text is ConfigUsage.
func LoadConfig(args []string, environ []string) (Config, error) {
	var out bytes.Buffer
	fs := flag.NewFlagSet("odoo-iot-mqtt", flag.ContinueOnError)
	fs.SetOutput(&out)
	fs.Usage = func() { fmt.Fprint(fs.Output(), ConfigUsage()) }

	var file configFileFlag
	fs.Var(&file, "c", "config file")
	fs.Var(&file, "config", "config file")
	var setErr error
	flags := make([]*configFlagValue, len(configOptions))
	for i, o := range configOptions {
		flags[i] = &configFlagValue{opt: o, setErr: &setErr}
		fs.Var(flags[i], o.name, o.usage)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, &configHelpError{usage: out.String()}
		}
		if setErr != nil {
			return Config{}, setErr
		}
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q (settings are given as --name=value)", fs.Arg(0))
	}

	env, errs := configEnviron(environ)
	origin := map[string]string{} // option name -> where its value came from

	c := DefaultConfig()
	path, pathSource := file.path, "--config"
	if !file.isSet && env[configEnvFile] != "" {
		path, pathSource = env[configEnvFile], configEnvFile
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %w", pathSource, err)
		}
		errs = append(errs, applyConfigFile(&c, path, data, origin)...)
	}
	for _, o := range configOptions {
		v := env[o.envName()]
		if v == "" {
			continue
		}
		if err := o.apply(&c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.envName(), err))
			continue
		}
		origin[o.name] = o.envName()
	}
	for _, f := range flags {
		if f.isSet {
			_ = f.opt.apply(&c, f.raw) // checked by Set already
			origin[f.opt.name] = "--" + f.opt.name
		}
	}

	for _, p := range c.problems() {
		if src, ok := origin[p.setting]; ok && !strings.HasPrefix(src, "--") {
			errs = append(errs, fmt.Errorf("%w (set by %s)", p, src))
		} else {
			errs = append(errs, p)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// configEnviron returns our variables from environ, and an error naming any
// ODOO_IOT_MQTT_* variable that is not a setting.
func configEnviron(environ []string) (map[string]string, []error) {
	known := map[string]bool{configEnvFile: true}
	for _, o := range configOptions {
		known[o.envName()] = true
	}
	env := map[string]string{}
	var unknown []string
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, configEnvPrefix) {
			continue
		}
		if !known[k] {
			unknown = append(unknown, k)
			continue
		}
		if _, dup := env[k]; !dup { // the first one wins, as with os.Getenv
			env[k] = v
		}
	}
	if len(unknown) == 0 {
		return env, nil
	}
	slices.Sort(unknown)
	unknown = slices.Compact(unknown)
	return env, []error{fmt.Errorf("unknown environment variable(s) %s (see --help for the list)", strings.Join(unknown, ", "))}
}

// configLine is one "key = value" of the [options] section.
type configLine struct {
	line       int
	key, value string
}

// parseConfigFile reads the [options] section of an Odoo-style INI file, the
// way Python's configparser does for odoo.conf: "key = value" or "key: value",
// keys folded to lower case, full-line ; and # comments, indented lines
// continuing the previous value. Inline comments are not stripped (a password
// may contain ; or #). Other sections are skipped.
func parseConfigFile(path string, data []byte) ([]configLine, []error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var (
		lines   []configLine
		errs    []error
		section string
		inAny   bool
		seen    = map[string]int{}
		last    = -1 // index in lines of the value a continuation line extends
	)
	for i, text := range strings.Split(string(data), "\n") {
		n := i + 1
		text = strings.TrimRight(text, " \t\r")
		trimmed := strings.TrimLeft(text, " \t")
		switch {
		case trimmed == "":
			last = -1 // configparser keeps blank lines inside values; we have no multi-line settings
			continue
		case trimmed[0] == '#' || trimmed[0] == ';':
			continue
		case len(trimmed) < len(text) && last >= 0:
			lines[last].value += "\n" + trimmed
			continue
		case trimmed[0] == '[':
			if !strings.HasSuffix(trimmed, "]") {
				errs = append(errs, fmt.Errorf("%s:%d: malformed section header %q", path, n, trimmed))
				continue
			}
			section, inAny, last = strings.TrimSpace(trimmed[1:len(trimmed)-1]), true, -1
			continue
		}
		if !inAny {
			errs = append(errs, fmt.Errorf("%s:%d: key outside a section (start the file with [options])", path, n))
			continue
		}
		last = -1
		if section != configSection {
			continue
		}
		j := strings.IndexAny(trimmed, "=:")
		if j <= 0 {
			errs = append(errs, fmt.Errorf("%s:%d: want key = value, got %q", path, n, trimmed))
			continue
		}
		key := strings.ToLower(strings.TrimSpace(trimmed[:j]))
		if prev, dup := seen[key]; dup {
			errs = append(errs, fmt.Errorf("%s:%d: duplicate key %s (first set on line %d)", path, n, key, prev))
			continue
		}
		seen[key] = n
		lines = append(lines, configLine{line: n, key: key, value: strings.TrimSpace(trimmed[j+1:])})
		last = len(lines) - 1
	}
	return lines, errs
}

// applyConfigFile sets c from the [options] of a config file and records in
// origin where each setting came from.
func applyConfigFile(c *Config, path string, data []byte, origin map[string]string) []error {
	lines, errs := parseConfigFile(path, data)
	var port, iface, addr *configLine
	for i := range lines {
		l := &lines[i]
		where := fmt.Sprintf("%s:%d", path, l.line)
		// Odoo writes False (Python's None) for a setting it leaves unset;
		// only a boolean takes False as a value.
		unset := l.value == "" || l.value == "False"
		switch {
		case l.key == "http_port" || l.key == "http_interface":
			if unset {
				continue
			}
			if l.key == "http_port" {
				port = l
			} else {
				iface = l
			}
		case slices.Contains(configIgnoredOdooKeys, l.key):
		default:
			o, ok := configOptionByKey(l.key)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: unknown key %s in [%s]", where, l.key, configSection))
				continue
			}
			if unset && (l.value == "" || o.arg != "") {
				continue
			}
			if l.key == "http_addr" {
				addr = l
			}
			if err := o.apply(c, l.value); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", where, l.key, err))
				continue
			}
			origin[o.name] = where
		}
	}
	if port == nil && iface == nil {
		return errs
	}
	// Odoo's http_port and http_interface together make our http_addr.
	first := port
	if first == nil || (iface != nil && iface.line < first.line) {
		first = iface
	}
	if addr != nil {
		return append(errs, fmt.Errorf("%s:%d: %s conflicts with http_addr on line %d (use one or the other)", path, first.line, first.key, addr.line))
	}
	host, p := "", "8069" // Odoo's defaults
	if iface != nil {
		host = iface.value
	}
	if port != nil {
		n, err := strconv.ParseUint(port.value, 10, 16)
		if err != nil {
			return append(errs, fmt.Errorf("%s:%d: http_port: invalid port %q (want 0-65535)", path, port.line, port.value))
		}
		p = strconv.FormatUint(n, 10)
	}
	c.HTTPAddr = net.JoinHostPort(host, p)
	origin["http-addr"] = fmt.Sprintf("%s:%d", path, first.line)
	return errs
}

func parseConfigInt64(v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid integer %q", v)
	}
	return n, nil
}

func parseConfigInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("invalid integer %q", v)
	}
	return n, nil
}

func parseConfigBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q (want true/false, 1/0 or yes/no)", v)
}

// parseConfigDuration accepts Go syntax ("30s", "1h30m") or whole seconds.
func parseConfigDuration(v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return 0, fmt.Errorf("duration %q out of range", v)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want e.g. 30s, 5m, 168h or whole seconds)", v)
	}
	return d, nil
}

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
	if c.ShutdownTimeout <= 0 {
		add("shutdown-timeout", "must be positive, got %s", c.ShutdownTimeout)
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
