package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	configTestDir     = "../testdata/config"
	configTestOdoo    = configTestDir + "/odoo.conf"
	configTestFull    = configTestDir + "/odoo-iot-mqtt.conf"
	configTestBadFile = configTestDir + "/bad.conf"
)

// configTestFile writes an [options] file into a temporary directory and
// returns its path.
func configTestFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.conf")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// configTestErrLines splits a (joined) error into its lines.
func configTestErrLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

func TestConfigDefaults(t *testing.T) {
	def := DefaultConfig()
	if err := def.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	want := Config{
		HTTPAddr:        ":8069",
		DB:              "sqlite:data/odoo-iot-mqtt.db",
		DBName:          "odoo",
		LogLevel:        "info",
		LogFormat:       "text",
		MaxRequestBytes: 10485760,
		ListDB:          true,
		SessionMaxAge:   168 * time.Hour,
		LoginRateLimit:  10,
		ShutdownTimeout: 30 * time.Second,

		IngestQueueBytes:     32 << 20,
		DeviceQueueBytes:     16 << 20,
		HistoryPartition:     "day",
		HistoryPurgeInterval: 10 * time.Minute,
		LoginUserRateLimit:   20,
		HTTPHeaderTimeout:    10 * time.Second,
		HTTPBodyTimeout:      time.Minute,
		HTTPIdleTimeout:      30 * time.Second,
		MaxRequestsPerAddr:   64,
		MaxStreamsPerAddr:    128,
	}
	if !reflect.DeepEqual(def, want) {
		t.Errorf("DefaultConfig() = %+v, want %+v", def, want)
	}
	got, err := LoadConfig(nil, []string{"PATH=/usr/bin", "HOME=/root", "ODOO_RC=/etc/odoo.conf"})
	if err != nil {
		t.Fatalf("LoadConfig(no settings) error: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoadConfig(no settings) = %+v, want %+v", got, want)
	}
}

func TestConfigPrecedence(t *testing.T) {
	// fromFile is what configTestFull holds.
	fromFile := Config{
		HTTPAddr:        "0.0.0.0:8080",
		DB:              "postgres://odoo:file-secret@db.internal:5432/iot?sslmode=disable",
		DBName:          "iot",
		AdminPassword:   "file-admin",
		LogLevel:        "debug",
		LogFormat:       "json",
		MaxRequestBytes: 2048,
		ListDB:          true,
		SessionMaxAge:   time.Hour,
		LoginRateLimit:  5,
		ShutdownTimeout: time.Minute,

		IngestQueueBytes:     32 << 20,
		DeviceQueueBytes:     16 << 20,
		HistoryPartition:     "day",
		HistoryPurgeInterval: 30 * time.Minute,
		LoginUserRateLimit:   20,
		HTTPHeaderTimeout:    10 * time.Second,
		HTTPBodyTimeout:      time.Minute,
		HTTPIdleTimeout:      30 * time.Second,
		MaxRequestsPerAddr:   64,
		MaxStreamsPerAddr:    128,
	}
	with := func(f func(*Config)) Config {
		c := fromFile
		f(&c)
		return c
	}
	tests := []struct {
		name string
		args []string
		env  []string
		want Config
	}{
		{
			name: "file over defaults",
			args: []string{"-c", configTestFull},
			want: fromFile,
		},
		{
			name: "long --config flag",
			args: []string{"--config=" + configTestFull},
			want: fromFile,
		},
		{
			name: "file named by the environment",
			env:  []string{"ODOO_IOT_MQTT_CONFIG=" + configTestFull},
			want: fromFile,
		},
		{
			name: "config flag over config variable",
			args: []string{"--config", configTestFull},
			env:  []string{"ODOO_IOT_MQTT_CONFIG=" + configTestBadFile},
			want: fromFile,
		},
		{
			name: "empty config flag disables the file of the environment",
			args: []string{"--config="},
			env:  []string{"ODOO_IOT_MQTT_CONFIG=" + configTestBadFile},
			want: DefaultConfig(),
		},
		{
			name: "environment over file",
			args: []string{"-c", configTestFull},
			env: []string{
				"ODOO_IOT_MQTT_LOG_LEVEL=warn",
				"ODOO_IOT_MQTT_DB=sqlite:/tmp/env.db",
				"ODOO_IOT_MQTT_LIST_DB=False",
				"ODOO_IOT_MQTT_SESSION_MAX_AGE=2h",
				"ODOO_IOT_MQTT_MAX_REQUEST_BYTES=4096",
			},
			want: with(func(c *Config) {
				c.LogLevel, c.DB, c.ListDB, c.SessionMaxAge, c.MaxRequestBytes = "warn", "sqlite:/tmp/env.db", false, 2*time.Hour, 4096
			}),
		},
		{
			name: "empty environment variable leaves the file's value",
			args: []string{"-c", configTestFull},
			env:  []string{"ODOO_IOT_MQTT_DB_NAME="},
			want: fromFile,
		},
		{
			name: "flag over environment over file",
			args: []string{"-c", configTestFull, "--log-level", "error", "-db-name=flagdb"},
			env:  []string{"ODOO_IOT_MQTT_LOG_LEVEL=warn", "ODOO_IOT_MQTT_DB_NAME=envdb"},
			want: with(func(c *Config) { c.LogLevel, c.DBName = "error", "flagdb" }),
		},
		{
			name: "flag set to its default still wins",
			args: []string{"-c", configTestFull, "--log-level=info", "--http-addr=:8069", "--list-db", "--shutdown-timeout=30s"},
			env:  []string{"ODOO_IOT_MQTT_LOG_LEVEL=warn", "ODOO_IOT_MQTT_LIST_DB=0"},
			want: with(func(c *Config) {
				c.LogLevel, c.HTTPAddr, c.ListDB, c.ShutdownTimeout = "info", ":8069", true, 30*time.Second
			}),
		},
		{
			name: "purge interval flag over the file's",
			args: []string{"-c", configTestFull, "--history-purge-interval=2h"},
			want: with(func(c *Config) { c.HistoryPurgeInterval = 2 * time.Hour }),
		},
		{
			name: "boolean flag with explicit value, single dash",
			args: []string{"-list-db=false"},
			want: func() Config { c := DefaultConfig(); c.ListDB = false; return c }(),
		},
		{
			name: "last occurrence of a flag wins",
			args: []string{"--log-level=debug", "--log-level=warn"},
			want: func() Config { c := DefaultConfig(); c.LogLevel = "warn"; return c }(),
		},
		{
			name: "durations as whole seconds, levels folded to lower case",
			env:  []string{"ODOO_IOT_MQTT_SHUTDOWN_TIMEOUT=5", "ODOO_IOT_MQTT_LOG_FORMAT=JSON"},
			args: []string{"--session-max-age", "120"},
			want: func() Config {
				c := DefaultConfig()
				c.ShutdownTimeout, c.LogFormat, c.SessionMaxAge = 5*time.Second, "json", 2*time.Minute
				return c
			}(),
		},
		{
			name: "every setting from the environment",
			env: []string{
				"ODOO_IOT_MQTT_HTTP_ADDR=127.0.0.1:0",
				"ODOO_IOT_MQTT_DB=postgresql:///iot?host=/var/run/postgresql",
				"ODOO_IOT_MQTT_DB_NAME=iot.test-1",
				"ODOO_IOT_MQTT_ADMIN_PASSWORD=env-admin",
				"ODOO_IOT_MQTT_LOG_LEVEL=error",
				"ODOO_IOT_MQTT_LOG_FORMAT=text",
				"ODOO_IOT_MQTT_MAX_REQUEST_BYTES=1024",
				"ODOO_IOT_MQTT_LIST_DB=no",
				"ODOO_IOT_MQTT_SESSION_MAX_AGE=1m",
				"ODOO_IOT_MQTT_LOGIN_RATE_LIMIT=1",
				"ODOO_IOT_MQTT_SHUTDOWN_TIMEOUT=1ms",
				"ODOO_IOT_MQTT_INGEST_QUEUE_BYTES=2097152",
				"ODOO_IOT_MQTT_DEVICE_QUEUE_BYTES=1048576",
			},
			want: Config{
				HTTPAddr:        "127.0.0.1:0",
				DB:              "postgresql:///iot?host=/var/run/postgresql",
				DBName:          "iot.test-1",
				AdminPassword:   "env-admin",
				LogLevel:        "error",
				LogFormat:       "text",
				MaxRequestBytes: 1024,
				ListDB:          false,
				SessionMaxAge:   time.Minute,
				LoginRateLimit:  1,
				ShutdownTimeout: time.Millisecond,

				IngestQueueBytes:     2 << 20,
				DeviceQueueBytes:     1 << 20,
				HistoryPartition:     "day",
				HistoryPurgeInterval: 10 * time.Minute,
				LoginUserRateLimit:   20,
				HTTPHeaderTimeout:    10 * time.Second,
				HTTPBodyTimeout:      time.Minute,
				HTTPIdleTimeout:      30 * time.Second,
				MaxRequestsPerAddr:   64,
				MaxStreamsPerAddr:    128,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadConfig(tt.args, tt.env)
			if err != nil {
				t.Fatalf("LoadConfig(%q, %q) error: %v", tt.args, tt.env, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LoadConfig(%q, %q)\n got %+v\nwant %+v", tt.args, tt.env, got, tt.want)
			}
		})
	}
}

func TestConfigOdooAliases(t *testing.T) {
	// A real odoo.conf: Odoo's keys are read or skipped, the rest is default.
	got, err := LoadConfig([]string{"-c", configTestOdoo}, nil)
	if err != nil {
		t.Fatalf("LoadConfig(odoo.conf) error: %v", err)
	}
	want := DefaultConfig()
	want.HTTPAddr, want.DBName, want.ListDB, want.LogLevel = "127.0.0.1:8070", "iot_prod", false, "warn"
	want.ProxyMode = true // its proxy_mode = True
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoadConfig(odoo.conf)\n got %+v\nwant %+v", got, want)
	}

	tests := []struct {
		name     string
		body     string
		wantAddr string
		wantErr  string
	}{
		{"http_port alone", "[options]\nhttp_port = 8071\n", ":8071", ""},
		{"http_interface alone keeps Odoo's port", "[options]\nhttp_interface = 10.0.0.1\n", "10.0.0.1:8069", ""},
		{"empty interface", "[options]\nhttp_interface =\nhttp_port = 9000\n", ":9000", ""},
		{"False interface, as odoo --save writes", "[options]\nhttp_interface = False\nhttp_port = 9000\n", ":9000", ""},
		{"IPv6 interface", "[options]\nhttp_port = 9000\nhttp_interface = ::1\n", "[::1]:9000", ""},
		{"key: value and upper-case key", "[options]\nHTTP_PORT: 9001\n", ":9001", ""},
		{"http_addr with unset http_port", "[options]\nhttp_addr = :7000\nhttp_port = False\n", ":7000", ""},
		{"unset http_addr with http_port", "[options]\nhttp_addr = False\nhttp_port = 7001\n", ":7001", ""},
		{"http_port conflicts with http_addr", "[options]\nhttp_addr = :7000\nhttp_port = 8069\n", "", ":3: http_port conflicts with http_addr on line 2"},
		{"bad http_port", "[options]\nhttp_port = eighty\n", "", `:2: http_port: invalid port "eighty"`},
		{"http_port out of range", "[options]\nhttp_port = 70000\n", "", `:2: http_port: invalid port "70000"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := configTestFile(t, tt.body)
			got, err := LoadConfig([]string{"--config", path}, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), path+tt.wantErr) {
					t.Fatalf("LoadConfig error = %v, want it to contain %q", err, path+tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadConfig error: %v", err)
			}
			if got.HTTPAddr != tt.wantAddr {
				t.Errorf("HTTPAddr = %q, want %q", got.HTTPAddr, tt.wantAddr)
			}
		})
	}
}

func TestConfigFileErrors(t *testing.T) {
	tests := []struct {
		name string
		path string // a fixture; body is used when empty
		body string
		want []string // each must appear in the error; the path is prefixed
	}{
		{
			name: "bad fixture reports every mistake",
			path: configTestBadFile,
			want: []string{
				":3: unknown key http_adress in [options]",
				`:4: max_request_bytes: invalid integer "abc"`,
				`:5: list_db: invalid boolean "maybe"`,
			},
		},
		{name: "key before any section", body: "db = sqlite:x.db\n[options]\n", want: []string{":1: key outside a section"}},
		{name: "duplicate key", body: "[options]\ndb_name = a\n\ndb_name = b\n", want: []string{":4: duplicate key db_name (first set on line 2)"}},
		{name: "malformed section", body: "[options\n", want: []string{`:1: malformed section header "[options"`}},
		{name: "line without value", body: "[options]\nlist_db\n", want: []string{`:2: want key = value, got "list_db"`}},
		{name: "unknown key in a second [options]", body: "[options]\n[other]\nx = 1\n[options]\nworker = 2\n", want: []string{":5: unknown key worker in [options]"}},
		{name: "bad duration", body: "[options]\nsession_max_age = a week\n", want: []string{`:2: session_max_age: invalid duration "a week"`}},
		{
			name: "valid value that fails validation names the setting and the line",
			body: "[options]\n\nlog_level = critical\n",
			want: []string{`--log-level: invalid level "critical" (want debug, info, warn or error) (set by `, ":3)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = configTestFile(t, tt.body)
			}
			_, err := LoadConfig([]string{"-c", path}, nil)
			if err == nil {
				t.Fatal("LoadConfig succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.HasPrefix(tt.want[0], ":") && !strings.Contains(err.Error(), path+tt.want[0]) {
				t.Errorf("error %q does not name %s", err, path+tt.want[0])
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope.conf")
		for _, in := range []struct {
			args []string
			env  []string
			want string
		}{
			{[]string{"-c", missing}, nil, "--config: open " + missing},
			{nil, []string{"ODOO_IOT_MQTT_CONFIG=" + missing}, "ODOO_IOT_MQTT_CONFIG: open " + missing},
		} {
			_, err := LoadConfig(in.args, in.env)
			if err == nil || !strings.HasPrefix(err.Error(), in.want) || !errors.Is(err, os.ErrNotExist) {
				t.Errorf("LoadConfig(%q, %q) error = %v, want prefix %q wrapping os.ErrNotExist", in.args, in.env, err, in.want)
			}
		}
	})

	t.Run("comments and continuation lines", func(t *testing.T) {
		lines, errs := parseConfigFile("x.conf", []byte("\xef\xbb\xbf; c\n[options]\n# c\naddons_path = /a,\n    /b\n  ; c\nlog_level = debug ; not a comment\r\n[other]\nk = v\n  more\n"))
		if len(errs) > 0 {
			t.Fatalf("parseConfigFile errors: %v", errs)
		}
		want := []configLine{{4, "addons_path", "/a,\n/b"}, {7, "log_level", "debug ; not a comment"}}
		if !slices.Equal(lines, want) {
			t.Errorf("parseConfigFile = %+v, want %+v", lines, want)
		}
	})
}

func TestConfigEnvAndFlagErrors(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   []string
		want  string // the whole error when exact, else a part of it
		exact bool
	}{
		{
			name:  "env value that does not parse names the variable",
			env:   []string{"ODOO_IOT_MQTT_MAX_REQUEST_BYTES=abc"},
			want:  `ODOO_IOT_MQTT_MAX_REQUEST_BYTES: invalid integer "abc"`,
			exact: true,
		},
		{
			name: "bad env boolean",
			env:  []string{"ODOO_IOT_MQTT_LIST_DB=sometimes"},
			want: `ODOO_IOT_MQTT_LIST_DB: invalid boolean "sometimes"`,
		},
		{
			name:  "unknown env variables are named, sorted, values hidden",
			env:   []string{"ODOO_IOT_MQTT_HTTP_ADR=:1", "PATH=/bin", "ODOO_IOT_MQTT_ADMIN_PASSWD=hunter2"},
			want:  "unknown environment variable(s) ODOO_IOT_MQTT_ADMIN_PASSWD, ODOO_IOT_MQTT_HTTP_ADR (see --help for the list)",
			exact: true,
		},
		{
			name: "env value failing validation names the variable",
			env:  []string{"ODOO_IOT_MQTT_LOGIN_RATE_LIMIT=0"},
			want: "--login-rate-limit: must be at least 1, got 0 (set by ODOO_IOT_MQTT_LOGIN_RATE_LIMIT)",
		},
		{
			name:  "flag value that does not parse names the flag",
			args:  []string{"--max-request-bytes=abc"},
			want:  `--max-request-bytes: invalid integer "abc"`,
			exact: true,
		},
		{
			name:  "bad flag duration",
			args:  []string{"-shutdown-timeout", "soon"},
			want:  `--shutdown-timeout: invalid duration "soon" (want e.g. 30s, 5m, 168h or whole seconds)`,
			exact: true,
		},
		{
			name: "unknown flag",
			args: []string{"--http-adress=:1"},
			want: "flag provided but not defined: -http-adress",
		},
		{
			name: "flag without its value",
			args: []string{"--db"},
			want: "flag needs an argument: -db",
		},
		{
			name: "positional argument",
			args: []string{"--log-level=debug", "serve"},
			want: `unexpected argument "serve"`,
		},
		{
			name:  "flag failing validation",
			args:  []string{"--log-format=xml"},
			want:  `--log-format: invalid format "xml" (want text or json)`,
			exact: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(tt.args, tt.env)
			if err == nil {
				t.Fatalf("LoadConfig(%q, %q) = %+v, want an error", tt.args, tt.env, c)
			}
			if tt.exact && err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows a value of an unknown variable", err)
			}
			if !reflect.DeepEqual(c, Config{}) {
				t.Errorf("LoadConfig returned %+v with its error, want the zero Config", c)
			}
		})
	}
}

func TestConfigHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		t.Run(arg, func(t *testing.T) {
			_, err := LoadConfig([]string{"--log-level=debug", arg}, nil)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("LoadConfig(%s) error = %v, want flag.ErrHelp", arg, err)
			}
			if err.Error() != ConfigUsage() {
				t.Errorf("help error text is not the usage:\n%s", err)
			}
		})
	}

	usage := ConfigUsage()
	for _, want := range []string{
		"-c, --config FILE", "ODOO_IOT_MQTT_CONFIG",
		`--http-addr ADDR`, `default ":8069"`, `default "sqlite:data/odoo-iot-mqtt.db"`,
		`default "10485760"`, `default "168h0m0s"`, `default "true"`, "--list-db\n",
		"addons_path", "http_port", "without_demo",
	} {
		if !strings.Contains(usage, want) {
			t.Errorf("ConfigUsage() lacks %q", want)
		}
	}
	for _, o := range configOptions {
		for _, want := range []string{"--" + o.name, o.envName(), "file " + o.fileKey() + ")"} {
			if !strings.Contains(usage, want) {
				t.Errorf("ConfigUsage() lacks %q", want)
			}
		}
	}
	if strings.Contains(usage, "admin-password SECRET\n        password of user admin, set when the database is created (default") {
		t.Error("ConfigUsage() shows a default for the admin password")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		setting string // "" when valid
		want    string // part of the message
	}{
		{"defaults", func(*Config) {}, "", ""},
		{"port 0 for tests", func(c *Config) { c.HTTPAddr = ":0" }, "", ""},
		{"IPv6 host", func(c *Config) { c.HTTPAddr = "[::1]:8069" }, "", ""},
		{"host name", func(c *Config) { c.HTTPAddr = "localhost:65535" }, "", ""},
		{"no port", func(c *Config) { c.HTTPAddr = "localhost" }, "http-addr", `invalid address "localhost"`},
		{"empty port", func(c *Config) { c.HTTPAddr = "localhost:" }, "http-addr", `invalid port ""`},
		{"port too big", func(c *Config) { c.HTTPAddr = ":65536" }, "http-addr", `invalid port "65536" (want 0-65535)`},
		{"named port", func(c *Config) { c.HTTPAddr = ":http" }, "http-addr", `invalid port "http"`},
		{"negative port", func(c *Config) { c.HTTPAddr = ":-1" }, "http-addr", `invalid port "-1"`},
		{"host with a slash", func(c *Config) { c.HTTPAddr = "http://x:80" }, "http-addr", "invalid"},
		{"sqlite memory", func(c *Config) { c.DB = "sqlite::memory:" }, "", ""},
		{"sqlite absolute", func(c *Config) { c.DB = "sqlite:/var/lib/iot.db" }, "", ""},
		{"postgres URL", func(c *Config) { c.DB = "postgres://u:p@db:5432/iot?sslmode=disable" }, "", ""},
		{"postgresql URL", func(c *Config) { c.DB = "postgresql://db/iot" }, "", ""},
		{"postgres unix socket", func(c *Config) { c.DB = "postgres:///iot?host=/var/run/postgresql" }, "", ""},
		{"empty db", func(c *Config) { c.DB = "" }, "db", "must not be empty"},
		{"mysql", func(c *Config) { c.DB = "mysql://u:p@h/db" }, "db", `unsupported scheme "mysql" (want sqlite:PATH or postgres://...)`},
		{"no scheme", func(c *Config) { c.DB = "data/x.db" }, "db", "missing scheme"},
		{"key=value DSN", func(c *Config) { c.DB = "host=db password=secret:x" }, "db", "missing scheme"},
		{"sqlite without path", func(c *Config) { c.DB = "sqlite:" }, "db", "sqlite: needs a path"},
		{"sqlite URL", func(c *Config) { c.DB = "sqlite://data/x.db" }, "db", "not a sqlite:// URL"},
		{"postgres without host", func(c *Config) { c.DB = "postgres:///iot" }, "db", "postgres URL needs a host"},
		{"postgres opaque", func(c *Config) { c.DB = "postgres:iot" }, "db", "invalid postgres URL"},
		{"postgres bad port", func(c *Config) { c.DB = "postgres://db:abc/iot" }, "db", `invalid postgres URL: invalid port ":abc" after host`},
		{"postgres password with #", func(c *Config) { c.DB = "postgres://u:se#cret@db/iot" }, "db", "invalid postgres URL (percent-encode special characters"},
		{"postgres password with /", func(c *Config) { c.DB = "postgres://u:secret/x@db/iot" }, "db", "invalid postgres URL (percent-encode special characters"},
		{"empty db name", func(c *Config) { c.DBName = "" }, "db-name", "must not be empty"},
		{"db name with space", func(c *Config) { c.DBName = "my db" }, "db-name", `invalid name "my db"`},
		{"db name with quote", func(c *Config) { c.DBName = `x"y` }, "db-name", "invalid name"},
		{"log level", func(c *Config) { c.LogLevel = "trace" }, "log-level", `invalid level "trace"`},
		{"log level case", func(c *Config) { c.LogLevel = "INFO" }, "log-level", `invalid level "INFO"`},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, "log-format", `invalid format "xml"`},
		{"request bytes minimum", func(c *Config) { c.MaxRequestBytes = 1024 }, "", ""},
		{"request bytes too small", func(c *Config) { c.MaxRequestBytes = 1023 }, "max-request-bytes", "must be at least 1024, got 1023"},
		{"session age minimum", func(c *Config) { c.SessionMaxAge = time.Minute }, "", ""},
		{"session age too short", func(c *Config) { c.SessionMaxAge = 59 * time.Second }, "session-max-age", "must be at least 1m0s, got 59s"},
		{"rate limit zero", func(c *Config) { c.LoginRateLimit = 0 }, "login-rate-limit", "must be at least 1, got 0"},
		{"user rate limit zero", func(c *Config) { c.LoginUserRateLimit = 0 }, "login-user-rate-limit", "must be at least 1, got 0"},
		{"header timeout too short", func(c *Config) { c.HTTPHeaderTimeout = 999 * time.Millisecond }, "http-header-timeout", "must be at least 1s, got 999ms"},
		{"body timeout minimum", func(c *Config) { c.HTTPBodyTimeout = time.Second }, "", ""},
		{"body timeout zero", func(c *Config) { c.HTTPBodyTimeout = 0 }, "http-body-timeout", "must be at least 1s, got 0s"},
		{"idle timeout negative", func(c *Config) { c.HTTPIdleTimeout = -time.Second }, "http-idle-timeout", "must be at least 1s"},
		{"no request cap", func(c *Config) { c.MaxRequestsPerAddr, c.MaxStreamsPerAddr = 0, 0 }, "", ""},
		{"request cap negative", func(c *Config) { c.MaxRequestsPerAddr = -1 }, "max-requests-per-addr", "must be 0 (no cap) or more, got -1"},
		{"stream cap negative", func(c *Config) { c.MaxStreamsPerAddr = -1 }, "max-streams-per-addr", "must be 0 (no cap) or more, got -1"},
		{"shutdown timeout zero", func(c *Config) { c.ShutdownTimeout = 0 }, "shutdown-timeout", "must be positive, got 0s"},
		{"shutdown timeout negative", func(c *Config) { c.ShutdownTimeout = -time.Second }, "shutdown-timeout", "must be positive"},
		{"embedded broker", func(c *Config) { c.EmbeddedBroker = "127.0.0.1:1883" }, "", ""},
		{"embedded broker any port", func(c *Config) { c.EmbeddedBroker = "127.0.0.1:0" }, "", ""},
		{"embedded broker with demo", func(c *Config) { c.EmbeddedBroker, c.Demo = ":1883", true }, "", ""},
		{"embedded broker no port", func(c *Config) { c.EmbeddedBroker = "localhost" }, "embedded-broker", `invalid address "localhost"`},
		{"embedded broker bad port", func(c *Config) { c.EmbeddedBroker = "localhost:mqtt" }, "embedded-broker", `invalid port "mqtt"`},
		{"demo without embedded broker", func(c *Config) { c.Demo = true }, "demo", "needs --embedded-broker"},
		{"ingest queue minimum", func(c *Config) { c.IngestQueueBytes = 1 << 20 }, "", ""},
		{"ingest queue too small", func(c *Config) { c.IngestQueueBytes = 1<<20 - 1 }, "ingest-queue-bytes", "must be between 1048576 and 2147483647, got 1048575"},
		{"history partition by week", func(c *Config) { c.HistoryPartition = "week" }, "history-partition", `want day or month, got "week"`},
		{"purge interval minimum", func(c *Config) { c.HistoryPurgeInterval = time.Minute }, "", ""},
		{"purge interval maximum", func(c *Config) { c.HistoryPurgeInterval = 168 * time.Hour }, "", ""},
		{"purge interval too short", func(c *Config) { c.HistoryPurgeInterval = 59 * time.Second }, "history-purge-interval", "must be between 1m0s and 168h0m0s, got 59s"},
		{"purge interval too long", func(c *Config) { c.HistoryPurgeInterval = 169 * time.Hour }, "history-purge-interval", "must be between 1m0s and 168h0m0s, got 169h0m0s"},
		{"device queue too large", func(c *Config) { c.DeviceQueueBytes = 1 << 31 }, "device-queue-bytes", "must be between 1048576 and 2147483647, got 2147483648"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mutate(&c)
			err := c.Validate()
			if tt.setting == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			if prefix := "--" + tt.setting + ": "; !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("Validate() = %q, want it to start with %q", err, prefix)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("Validate() = %q shows a password", err)
			}
		})
	}

	t.Run("all problems joined, each naming its setting", func(t *testing.T) {
		c := Config{DB: "mysql://x"} // every other field is zero
		err := c.Validate()
		lines := configTestErrLines(err)
		var settings []string
		for _, l := range lines {
			name, _, ok := strings.Cut(l, ": ")
			if !ok || !strings.HasPrefix(name, "--") {
				t.Errorf("line %q does not start with a flag name", l)
			}
			settings = append(settings, strings.TrimPrefix(name, "--"))
		}
		want := []string{"http-addr", "db", "db-name", "log-level", "log-format", "max-request-bytes", "session-max-age", "login-rate-limit", "login-user-rate-limit",
			"http-header-timeout", "http-body-timeout", "http-idle-timeout", "shutdown-timeout", "history-partition", "history-purge-interval", "ingest-queue-bytes", "device-queue-bytes"}
		if !slices.Equal(settings, want) {
			t.Errorf("settings named = %q, want %q", settings, want)
		}
	})
}

func TestConfigRedacted(t *testing.T) {
	c := DefaultConfig()
	c.AdminPassword = "s3cret-admin"
	c.DB = "postgres://odoo:s3cret-db@db.internal:5432/iot?sslmode=disable"
	got := c.Redacted()
	want := []string{
		"admin-password=<redacted>",
		"cors-origins=",
		"db-name=odoo",
		"db=postgres://odoo:<redacted>@db.internal:5432/iot?sslmode=disable",
		"demo=false",
		"device-queue-bytes=16777216",
		"embedded-broker=",
		"history-partition=day",
		"history-purge-interval=10m0s",
		"http-addr=:8069",
		"http-body-timeout=1m0s",
		"http-header-timeout=10s",
		"http-idle-timeout=30s",
		"ingest-queue-bytes=33554432",
		"iot-public-user=",
		"list-db=true",
		"log-format=text",
		"log-level=info",
		"login-rate-limit=10",
		"login-user-rate-limit=20",
		"max-request-bytes=10485760",
		"max-requests-per-addr=64",
		"max-streams-per-addr=128",
		"proxy-mode=false",
		"secret-key-file=",
		"secret-key=",
		"session-max-age=168h0m0s",
		"shutdown-timeout=30s",
		"trusted-proxies=",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Redacted()\n got %q\nwant %q", got, want)
	}
	if !slices.IsSorted(got) {
		t.Errorf("Redacted() is not sorted: %q", got)
	}

	dbs := []struct {
		name, db, want string
	}{
		{"sqlite shown", "sqlite:data/passwords.db", "db=sqlite:data/passwords.db"},
		{"URL without password", "postgres://odoo@db/iot", "db=postgres://odoo@db/iot"},
		{"password parameter", "postgres:///iot?host=/run/pg&password=s3cret&user=odoo", "db=postgres:///iot?host=%2Frun%2Fpg&password=<redacted>&user=odoo"},
		{"escaped password", "postgresql://odoo:s3%40cret@db/iot", "db=postgresql://odoo:<redacted>@db/iot"},
		{"unparseable URL hidden whole", "postgres://odoo:s3cret@db:port/iot", "db=<redacted>"},
		{"unescaped slash in password hidden whole", "postgres://odoo:12/s3cret@db/iot", "db=<redacted>"},
		{"unescaped hash in password hidden whole", "postgres://odoo:12#s3cret@db/iot", "db=<redacted>"},
		{"other scheme with password", "mysql://odoo:s3cret@db/iot", "db=mysql://odoo:<redacted>@db/iot"},
		{"key=value DSN", "host=db password=s3cret", "db=<redacted>"},
	}
	for _, tt := range dbs {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.DB = tt.db
			lines := c.Redacted()
			if !slices.Contains(lines, tt.want) {
				t.Errorf("Redacted() = %q, want a line %q", lines, tt.want)
			}
			if strings.Contains(strings.Join(lines, "\n"), "s3cret") || strings.Contains(strings.Join(lines, "\n"), "s3%40cret") {
				t.Errorf("Redacted() = %q shows a password", lines)
			}
		})
	}

	t.Run("empty admin password shown empty", func(t *testing.T) {
		if lines := DefaultConfig().Redacted(); !slices.Contains(lines, "admin-password=") {
			t.Errorf("Redacted() = %q, want admin-password=", lines)
		}
	})
}

func TestConfigSQLitePath(t *testing.T) {
	tests := []struct {
		db     string
		want   string
		wantOK bool
	}{
		{"sqlite:data/odoo-iot-mqtt.db", "data/odoo-iot-mqtt.db", true},
		{"sqlite:/var/lib/iot/db.sqlite", "/var/lib/iot/db.sqlite", true},
		{"SQLite:x.db", "x.db", true},
		{"sqlite::memory:", ":memory:", true},
		{"sqlite:file:x.db?_pragma=busy_timeout(5000)", "file:x.db?_pragma=busy_timeout(5000)", true},
		{"sqlite:", "", false},
		{"sqlite://data/x.db", "", false},
		{"postgres://db/iot", "", false},
		{"data/x.db", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.db, func(t *testing.T) {
			got, ok := Config{DB: tt.db}.SQLitePath()
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("SQLitePath() = %q, %v, want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestConfigValueParsers(t *testing.T) {
	bools := map[string]bool{"True": true, "true": true, "1": true, "yes": true, "YES": true, "on": true,
		"False": false, "false": false, "0": false, "no": false, "off": false}
	for in, want := range bools {
		if got, err := parseConfigBool(in); err != nil || got != want {
			t.Errorf("parseConfigBool(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "y", "2", "tru"} {
		if _, err := parseConfigBool(in); err == nil {
			t.Errorf("parseConfigBool(%q) succeeded, want an error", in)
		}
	}

	durations := map[string]time.Duration{"30s": 30 * time.Second, "90": 90 * time.Second, "0": 0,
		"1h30m": 90 * time.Minute, "168h": 168 * time.Hour, "604800": 168 * time.Hour, "-5": -5 * time.Second}
	for in, want := range durations {
		if got, err := parseConfigDuration(in); err != nil || got != want {
			t.Errorf("parseConfigDuration(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "1.5", "10 s", "99999999999999"} {
		if _, err := parseConfigDuration(in); err == nil {
			t.Errorf("parseConfigDuration(%q) succeeded, want an error", in)
		}
	}
}

func TestConfigEmbeddedBrokerAndDemo(t *testing.T) {
	c, err := LoadConfig([]string{"--embedded-broker", "127.0.0.1:1883", "--demo"}, nil)
	if err != nil || c.EmbeddedBroker != "127.0.0.1:1883" || !c.Demo {
		t.Fatalf("flags: %+v, %v", c, err)
	}
	c, err = LoadConfig(nil, []string{"ODOO_IOT_MQTT_EMBEDDED_BROKER=:1884", "ODOO_IOT_MQTT_DEMO=yes"})
	if err != nil || c.EmbeddedBroker != ":1884" || !c.Demo {
		t.Fatalf("environment: %+v, %v", c, err)
	}
	path := configTestFile(t, "[options]\nembedded_broker = 127.0.0.1:0\ndemo = True\n")
	c, err = LoadConfig([]string{"-c", path}, nil)
	if err != nil || c.EmbeddedBroker != "127.0.0.1:0" || !c.Demo {
		t.Fatalf("file: %+v, %v", c, err)
	}
	// --demo alone is refused, naming --demo and where it was set.
	_, err = LoadConfig(nil, []string{"ODOO_IOT_MQTT_DEMO=1"})
	if err == nil || !strings.HasPrefix(err.Error(), "--demo: needs --embedded-broker") || !strings.Contains(err.Error(), "(set by ODOO_IOT_MQTT_DEMO)") {
		t.Fatalf("--demo without --embedded-broker: %v", err)
	}
}

func TestConfigOrigins(t *testing.T) {
	got, err := LoadConfig([]string{"--cors-origins", " https://ERP.example.com/ ,http://127.0.0.1:8080", "--iot-public-user", "kiosk"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"https://erp.example.com", "http://127.0.0.1:8080"}; !slices.Equal(got.CORSOrigins, want) || got.IoTPublicUser != "kiosk" {
		t.Fatalf("CORSOrigins = %q, IoTPublicUser = %q", got.CORSOrigins, got.IoTPublicUser)
	}
	for _, bad := range []string{"erp.example.com", "https://erp.example.com/path", "ftp://x", "*"} {
		if _, err := LoadConfig([]string{"--cors-origins", bad}, nil); err == nil || !strings.Contains(err.Error(), "cors-origins") {
			t.Errorf("--cors-origins %q: error %v, want one naming the flag", bad, err)
		}
	}
}
