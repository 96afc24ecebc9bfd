package mqtt

import (
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// purgeChunk is how many history rows one DELETE of purge removes: small
// enough that a statement stays short, large enough that a million rows
// take a few hundred statements, not a million.
// (A var: tests make it small.)
var purgeChunk = 5000

// historyMethods are mqtt.signal.history's own RPC methods.
func historyMethods() map[string]*models.Method {
	return map[string]*models.Method{
		"purge":      {Kind: models.ModelLevel, Fn: historyPurge, Params: []models.Param{{Name: "domain"}}},
		"get_series": {Kind: models.ModelLevel, Params: SeriesParams, Fn: historyGetSeries}, // series_method.go
	}
}

// historyPurge is purge(domain): deletes the history rows matching
// domain (the user's record rules apply), chunk by chunk, and returns how
// many it deleted. The admin pages' "Purge history" of a broker or of a
// search calls it after showing search_count's figure. Only MQTT
// managers may: it is an unlink of the history, which users cannot do,
// spelled so that a million rows need not travel as ids.
func historyPurge(env *models.Env, _ []int64, a models.Args) (any, error) {
	m := env.CurrentModel()
	if !env.HasGroup(GroupManager) {
		return nil, models.AccessErrorf("Only MQTT managers may purge the message history.")
	}
	if err := env.CheckAccess(m, models.OpUnlink); err != nil {
		return nil, err
	}
	var domain []any
	switch d := a.Get("domain").(type) {
	case []any:
		domain = d
	default:
		if !py.IsFalse(d) {
			return nil, models.ValueErrorf("purge expects a domain (a list), not %s", py.Repr(d))
		}
	}
	var total int64
	for {
		ids, err := env.Search(m, domain, 0, int64(purgeChunk), "id")
		if err != nil || len(ids) == 0 {
			return total, err
		}
		n, err := env.DeleteWhere(m, []any{[]any{"id", "in", ids}})
		if err != nil {
			return total, err
		}
		total += n
		if n == 0 || len(ids) < purgeChunk {
			return total, nil
		}
	}
}
