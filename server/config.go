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
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/clientaddr"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/origin"
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
	LoginRateLimit  int           // --login-rate-limit: failed logins allowed per remote address per minute, on every entry point
	ShutdownTimeout time.Duration // --shutdown-timeout: grace period for in-flight requests on stop
	EmbeddedBroker  string        // --embedded-broker: host:port of an in-process MQTT broker; "" runs none
	Demo            bool          // --demo: demo records and simulated devices on the embedded broker
	// --ingest-queue-bytes and --device-queue-bytes: the listener's byte
	// bounds (listener.Options.QueueBytes and DeviceQueueBytes).
	IngestQueueBytes int64
	DeviceQueueBytes int64
	// --history-partition: the span of one partition of the message
	// history on PostgreSQL, day or month (mqtt.Options.HistoryPartition).
	HistoryPartition string
	// --history-purge-interval: how often each broker's history retention
	// runs (listener.Options.PurgeInterval).
	HistoryPurgeInterval time.Duration
	CORSOrigins          []string // --cors-origins: foreign browser origins trusted by /web, /websocket and /hw_drivers
	IoTPublicUser        string   // --iot-public-user: login /hw_drivers acts as for sessionless calls from a CORS origin
	SecretKey            string   // --secret-key: secret; base64 key(s) encrypting stored secrets, instead of a key file
	SecretKeyFile        string   // --secret-key-file: the key file; "" = KeyFile's default

	// Brakes on guessing and on clients that hold the server's resources
	// (see README.md, Configuration, for where the defaults come from).
	LoginUserRateLimit int           // --login-user-rate-limit: failed logins allowed per login (or uid) per minute, all addresses together
	HTTPHeaderTimeout  time.Duration // --http-header-timeout: time to read a request's headers
	HTTPBodyTimeout    time.Duration // --http-body-timeout: time to read a request's body, in total
	HTTPIdleTimeout    time.Duration // --http-idle-timeout: how long a kept-alive connection may wait for its next request
	MaxRequestsPerAddr int           // --max-requests-per-addr: concurrent requests per client address; 0 is no cap
	MaxStreamsPerAddr  int           // --max-streams-per-addr: open websockets and long polls per client address; 0 is no cap

	// Behind a reverse proxy or load balancer (clientaddr.Resolver): who
	// the client of a request is, for every limit above, and whether it
	// came over https, for the session cookie.
	ProxyMode      bool           // --proxy-mode: believe X-Forwarded-For and X-Forwarded-Proto from trusted proxies
	TrustedProxies []netip.Prefix // --trusted-proxies: the proxies' addresses; empty in proxy mode = the peer, as one hop
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

		IngestQueueBytes:     32 << 20,
		DeviceQueueBytes:     16 << 20,
		HistoryPartition:     "day",
		HistoryPurgeInterval: 10 * time.Minute,
		LoginUserRateLimit:   20,
		HTTPHeaderTimeout:    10 * time.Second,
		HTTPBodyTimeout:      60 * time.Second,
		HTTPIdleTimeout:      30 * time.Second,
		MaxRequestsPerAddr:   64,
		MaxStreamsPerAddr:    128,
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
	// configMinQueueBytes is the smallest listener queue bound: room for
	// one message of the default largest payload.
	configMinQueueBytes = 1 << 20
	// configMinPurgeInterval and configMaxPurgeInterval bound
	// --history-purge-interval: a purge scans every broker's history, so
	// more often than a minute only loads the database, and a week apart
	// lets a busy broker's history grow far past its retention.
	configMinPurgeInterval = time.Minute
	configMaxPurgeInterval = 7 * 24 * time.Hour
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
	{name: "login-rate-limit", arg: "N", usage: "failed logins (web login, common.login/authenticate, execute_kw) allowed per client address per minute; then every login from it is refused until the minute ends; at least 1",
		set: func(c *Config, v string) (err error) { c.LoginRateLimit, err = parseConfigInt(v); return err },
		get: func(c Config) string { return strconv.Itoa(c.LoginRateLimit) }},
	{name: "login-user-rate-limit", arg: "N", usage: "failed logins allowed per login (or uid) per minute from all addresses together; then it is refused from addresses that did not log in as it in the last 24h, until the minute ends; at least 1",
		set: func(c *Config, v string) (err error) { c.LoginUserRateLimit, err = parseConfigInt(v); return err },
		get: func(c Config) string { return strconv.Itoa(c.LoginUserRateLimit) }},
	{name: "http-header-timeout", arg: "DURATION", usage: "time allowed to read a request's headers; at least 1s",
		set: func(c *Config, v string) (err error) { c.HTTPHeaderTimeout, err = parseConfigDuration(v); return err },
		get: func(c Config) string { return c.HTTPHeaderTimeout.String() }},
	{name: "http-body-timeout", arg: "DURATION", usage: "time allowed to read a request's body, in total however slowly it comes (not a websocket's or a long poll's life); at least 1s",
		set: func(c *Config, v string) (err error) { c.HTTPBodyTimeout, err = parseConfigDuration(v); return err },
		get: func(c Config) string { return c.HTTPBodyTimeout.String() }},
	{name: "http-idle-timeout", arg: "DURATION", usage: "how long a kept-alive connection may wait for its next request; at least 1s",
		set: func(c *Config, v string) (err error) { c.HTTPIdleTimeout, err = parseConfigDuration(v); return err },
		get: func(c Config) string { return c.HTTPIdleTimeout.String() }},
	{name: "max-requests-per-addr", arg: "N", usage: "requests one client address may have running at once (websockets and long polls not counted); more get HTTP 429; 0 is no cap",
		set: func(c *Config, v string) (err error) { c.MaxRequestsPerAddr, err = parseConfigInt(v); return err },
		get: func(c Config) string { return strconv.Itoa(c.MaxRequestsPerAddr) }},
	{name: "max-streams-per-addr", arg: "N", usage: "websockets (/websocket) and long polls (/hw_drivers/event) one client address may have open at once; more get HTTP 429; 0 is no cap",
		set: func(c *Config, v string) (err error) { c.MaxStreamsPerAddr, err = parseConfigInt(v); return err },
		get: func(c Config) string { return strconv.Itoa(c.MaxStreamsPerAddr) }},
	{name: "proxy-mode", usage: "run behind a reverse proxy or load balancer, as Odoo's proxy_mode: the client address of every per-address limit is taken from X-Forwarded-For, read from the right past the --trusted-proxies, and X-Forwarded-Proto: https marks the session cookie Secure; headers from a peer that is not a trusted proxy are ignored. The proxy must pass the Host header on",
		set: func(c *Config, v string) (err error) { c.ProxyMode, err = parseConfigBool(v); return err },
		get: func(c Config) string { return strconv.FormatBool(c.ProxyMode) }},
	{name: "trusted-proxies", arg: "LIST", usage: "comma-separated addresses and CIDR networks of the proxies (10.0.0.5, 10.0.1.0/24, 2001:db8::/64) whose forwarded headers --proxy-mode believes; requests from other peers keep their own address. Empty: the peer of every request is trusted as one proxy hop (the rightmost X-Forwarded-For entry is the client), so the server must be reachable only through the proxy",
		set: func(c *Config, v string) (err error) { c.TrustedProxies, err = clientaddr.ParseTrusted(v); return err },
		get: func(c Config) string { return joinPrefixes(c.TrustedProxies) }},
	{name: "shutdown-timeout", arg: "DURATION", usage: "how long to wait for in-flight requests on stop",
		set: func(c *Config, v string) (err error) { c.ShutdownTimeout, err = parseConfigDuration(v); return err },
		get: func(c Config) string { return c.ShutdownTimeout.String() }},
	{name: "embedded-broker", arg: "ADDR", usage: "run an MQTT broker in-process on host:port, for development and demos (when taken, a fallback port of the same host, pinned in the database for the next starts); empty runs none",
		set: func(c *Config, v string) error { c.EmbeddedBroker = v; return nil },
		get: func(c Config) string { return c.EmbeddedBroker }},
	{name: "demo", usage: "fill an empty database with a demo broker (on the embedded broker), subscriptions and signals, and run simulated devices; needs --embedded-broker",
		set: func(c *Config, v string) (err error) { c.Demo, err = parseConfigBool(v); return err },
		get: func(c Config) string { return strconv.FormatBool(c.Demo) }},
	{name: "ingest-queue-bytes", arg: "N", usage: "bytes of received MQTT messages held between the brokers' sockets and the database; when they are all held the listener stops reading and the brokers slow down; also caps every broker's max_payload_size; at least 1048576",
		set: func(c *Config, v string) (err error) { c.IngestQueueBytes, err = parseConfigInt64(v); return err },
		get: func(c Config) string { return strconv.FormatInt(c.IngestQueueBytes, 10) }},
	{name: "device-queue-bytes", arg: "N", usage: "bytes of stored device messages waiting for the device update (discovery, last values); when full the writer waits; at least 1048576",
		set: func(c *Config, v string) (err error) { c.DeviceQueueBytes, err = parseConfigInt64(v); return err },
		get: func(c Config) string { return strconv.FormatInt(c.DeviceQueueBytes, 10) }},
	{name: "history-partition", arg: "GRAIN", usage: "PostgreSQL: the message history is partitioned by time, one partition a day or a month; retention drops whole partitions. day suits thousands of messages a second, month a small deployment (a dozen partitions a year); a change applies to partitions made after it",
		set: func(c *Config, v string) error { c.HistoryPartition = strings.TrimSpace(v); return nil },
		get: func(c Config) string { return c.HistoryPartition }},
	{name: "history-purge-interval", arg: "DURATION", usage: "how often the listener applies each broker's history retention (Keep history days/rows) and, on PostgreSQL, makes the next history partitions; between 1m and 168h",
		set: func(c *Config, v string) (err error) {
			c.HistoryPurgeInterval, err = parseConfigDuration(v)
			return err
		},
		get: func(c Config) string { return c.HistoryPurgeInterval.String() }},
	{name: "cors-origins", arg: "LIST", usage: "comma-separated browser origins (https://erp.example.com) allowed to call /hw_drivers/* across sites (CORS) and to use the /web routes and /websocket from their pages; empty allows only this server's own pages",
		set: func(c *Config, v string) (err error) { c.CORSOrigins, err = parseConfigOrigins(v); return err },
		get: func(c Config) string { return strings.Join(c.CORSOrigins, ",") }},
	{name: "iot-public-user", arg: "LOGIN", usage: "login that /hw_drivers/action and /hw_drivers/event act as when a page on a --cors-origins origin calls without a session, as Odoo's IoT box allows; empty requires a logged-in session",
		set: func(c *Config, v string) error { c.IoTPublicUser = strings.TrimSpace(v); return nil },
		get: func(c Config) string { return c.IoTPublicUser }},
	{name: "secret-key-file", arg: "PATH", usage: "file of the key that encrypts broker passwords, TLS keys and websocket headers in the database, created with a new key at the first start; back it up apart from the database. Empty: PATH.key beside a sqlite:PATH database, data/odoo-iot-mqtt.key for PostgreSQL",
		set: func(c *Config, v string) error { c.SecretKeyFile = strings.TrimSpace(v); return nil },
		get: func(c Config) string { return c.SecretKeyFile }},
	{name: "secret-key", arg: "KEY", secret: true, usage: "the key itself (32 random bytes in base64, e.g. from openssl rand -base64 32) instead of a key file; several, comma-separated, while rotating: the first encrypts, all decrypt",
		set: func(c *Config, v string) error { c.SecretKey = strings.TrimSpace(v); return nil },
		get: func(c Config) string { return c.SecretKey }},
}

// parseConfigOrigins splits a comma-separated list of http(s) origins.
func parseConfigOrigins(v string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		n := origin.Normalize(o)
		if n == "" || strings.TrimSuffix(strings.ToLower(o), "/") != n {
			return nil, fmt.Errorf("invalid origin %q (want scheme://host[:port], e.g. https://erp.example.com)", o)
		}
		out = append(out, n)
	}
	return out, nil
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// configIgnoredOdooKeys are keys of Odoo's own odoo.conf that have no meaning
// here. They are skipped so an existing odoo.conf loads; any other unknown key
// in [options] is an error, to catch typos.
var configIgnoredOdooKeys = []string{
	"addons_path", "admin_passwd", "data_dir", "db_host", "db_password", "db_port",
	"db_user", "logfile", "without_demo", "workers",
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
	b.WriteString("Usage: odoo-iot-mqtt [flags]\n")
	b.WriteString(subcommandUsage())
	b.WriteString(`
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
