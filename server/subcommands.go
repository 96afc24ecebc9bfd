package main

import "io"

// subcommands run instead of the server when the first argument names one:
// odoo-iot-mqtt NAME [flags]. Each takes the server's flags after its name
// and returns the exit code.
var subcommands = map[string]func(args, environ []string, stdout, stderr io.Writer) int{
	"rotate-key": runRotateKey,
}
