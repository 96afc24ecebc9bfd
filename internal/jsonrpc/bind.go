package jsonrpc

import (
	"slices"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Bind checks a route's params against its keyword parameters the way
// Python binds them, and returns the TypeError Odoo would raise, quoting
// fn, the controller's name.
func Bind[V any](fn string, params map[string]V, required, optional []string) error {
	for k := range params {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			return models.TypeErrorf("%s() got an unexpected keyword argument '%s'", fn, k)
		}
	}
	var missing []string
	for _, k := range required {
		if _, ok := params[k]; !ok {
			missing = append(missing, "'"+k+"'")
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return models.TypeErrorf("%s() missing 1 required positional argument: %s", fn, missing[0])
	default:
		return models.TypeErrorf("%s() missing %d required positional arguments: %s and %s", fn, len(missing),
			strings.Join(missing[:len(missing)-1], ", "), missing[len(missing)-1])
	}
}
