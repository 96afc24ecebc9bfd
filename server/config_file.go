package main

// Reading the Odoo-style INI config file (-c FILE).

import (
	"bytes"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
