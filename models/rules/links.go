package rules

import "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"

// A rule's broker, signal and device go with them at the database's
// level (cascade, set null), which tells no hook of mqtt.rule: these
// extensions reload the rules that named a deleted record, once the
// delete committed, so the engine does not act for a rule that is gone
// or on a record that is.
func (a *Addon) linkExtensions() []*models.Extension {
	link := func(model string, uses func(ru *rule, id int64) bool) *models.Extension {
		return &models.Extension{Model: model, Changed: func(env *models.Env, ids []int64, _ []string, deleted bool) {
			if !deleted {
				return
			}
			gone := append([]int64(nil), ids...)
			env.AfterCommit(func() {
				if affected := a.engine.using(gone, uses); len(affected) > 0 {
					a.engine.reload(a, affected, false)
				}
			})
		}}
	}
	return []*models.Extension{
		link("mqtt.broker", func(ru *rule, id int64) bool { return ru.broker == id }),
		link("mqtt.signal", func(ru *rule, id int64) bool { return ru.signalID == id }),
		link("iot.device", func(ru *rule, id int64) bool { return ru.deviceID == id }),
	}
}

// using lists the rules that use one of ids, by uses.
func (e *engine) using(ids []int64, uses func(ru *rule, id int64) bool) []int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []int64
	for _, ru := range e.byID {
		for _, id := range ids {
			if uses(ru, id) {
				out = append(out, ru.id)
				break
			}
		}
	}
	return out
}
