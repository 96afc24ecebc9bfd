package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// subcommand is a command run instead of the server when the first
// argument names it: odoo-iot-mqtt NAME [flags]. It takes the server's
// flags after its name and returns the exit code.
type subcommand struct {
	run     func(args, environ []string, stdout, stderr io.Writer) int
	summary string // one line for the server's usage
}

// subcommands lists them by name. (A function, not a variable: the
// commands read the configuration, whose usage lists them.)
func subcommands() map[string]subcommand {
	return map[string]subcommand{
		"rotate-key": {runRotateKey, "encrypt the stored secrets again with a new secret key (see rotate-key --help)"},
	}
}

// subcommandUsage lists the subcommands for ConfigUsage.
func subcommandUsage() string {
	cmds := subcommands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "       odoo-iot-mqtt %s [flags]: %s\n", n, cmds[n].summary)
	}
	return b.String()
}
