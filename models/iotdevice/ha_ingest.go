package iotdevice

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// haMsg is what a message of the batch is to Home Assistant discovery.
type haMsg struct {
	config *iot.HAEntity // a config: the entity to add or replace
	dev    iot.HADevice  // its device block
	remove string        // an empty config: the key of the entity to drop
	state  string        // a state message: the entity's key
	avail  int           // its availability topic index, or -1 for its state topic
}

// classifyHA queues a message of Home Assistant discovery: a config (or
// its removal) on a discovery topic, or a state or availability message
// on a topic of a discovered entity, for each entity it feeds. false
// when the message is none of these. A config that cannot be read is
// logged and counted, never stops the batch.
func (b *deviceBatch) classifyHA(log *slog.Logger, c *haCounters, m DeviceMessage) bool {
	if _, _, _, key, ok := iot.ParseHATopic(m.Topic); ok {
		b.haConfig(log, c, m, key)
		return true
	}
	refs := b.ha.topics[m.Topic]
	if len(refs) == 0 {
		return false
	}
	for _, r := range refs {
		p := b.pending(r.ident, "")
		b.msgs = append(b.msgs, batchMessage{dev: p, ha: &haMsg{state: r.key, avail: r.avail},
			msg: iot.Message{Topic: m.Topic, Payload: m.Payload, Retained: m.Retained, Time: m.Time}})
	}
	return true
}

func (b *deviceBatch) haConfig(log *slog.Logger, c *haCounters, m DeviceMessage, key string) {
	msg := iot.Message{Topic: m.Topic, Payload: m.Payload, Retained: m.Retained, Time: m.Time}
	if len(strings.TrimSpace(string(m.Payload))) == 0 {
		if ident := b.ha.remove(key); ident != "" {
			c.removed.Add(1)
			b.msgs = append(b.msgs, batchMessage{dev: b.pending(ident, ""), ha: &haMsg{remove: key}, msg: msg})
		}
		return
	}
	e, dev, err := iot.ParseHAConfig(m.Topic, m.Payload)
	if errors.Is(err, iot.ErrHAComponent) {
		c.ignored.Add(1)
		log.Debug("Home Assistant discovery: component not read", slog.String("topic", m.Topic))
		return
	}
	if err != nil {
		c.invalid.Add(1)
		log.Warn("Home Assistant discovery config skipped", slog.String("topic", m.Topic), slog.Any("error", err))
		return
	}
	if !validIdentifier(dev.Identifier) {
		c.invalid.Add(1)
		log.Warn("Home Assistant discovery config skipped: unusable device identifier", slog.String("topic", m.Topic), slog.String("device", dev.Identifier))
		return
	}
	if old := b.ha.owner[key]; old != "" && old != dev.Identifier {
		// The entity moved to another device: it leaves the old one.
		b.ha.remove(key)
		b.msgs = append(b.msgs, batchMessage{dev: b.pending(old, ""), ha: &haMsg{remove: key}, msg: msg})
	}
	_, known := b.ha.owner[key]
	if !known && b.ha.count(dev.Identifier) >= MaxHAEntities || !b.ha.put(dev.Identifier, e) {
		c.overflow.Add(1)
		log.Warn("Home Assistant discovery config skipped: too many entities", slog.String("topic", m.Topic), slog.String("device", dev.Identifier),
			slog.Int("max_per_device", MaxHAEntities), slog.Int("max_topics", MaxHATopics))
		return
	}
	c.configs.Add(1)
	b.msgs = append(b.msgs, batchMessage{dev: b.pending(dev.Identifier, ""), ha: &haMsg{config: &e, dev: dev}, msg: msg})
}

// applyHA applies one discovery message to its device's working state;
// values reports a changed reading.
func (b *deviceBatch) applyHA(bm *batchMessage) (values bool) {
	p, st, h, m := bm.dev, bm.dev.st, bm.ha, bm.msg
	if st.ha == nil {
		st.ha = map[string]iot.HAEntity{}
	}
	bm.data = map[string]any{"topic": m.Topic}
	switch {
	case h.config != nil:
		d := h.dev
		if name := safeText(d.Name); name != "" && (st.name == st.identifier || st.name == "") {
			st.name = name
			p.set("name", name)
		}
		e := *h.config
		if d.Name == "" && st.name != st.identifier {
			e.Sensor = iot.SensorName(e, st.name)
		}
		bm.data["kind"], bm.data["value"], bm.data["entity"] = "ha_config", e.Sensor, e.Key
		if old, had := st.ha[e.Key]; had && old.Sensor != e.Sensor {
			delete(st.values, old.Sensor)
			values = true
		}
		st.ha[e.Key] = e
		b.haEntitiesChanged(p)
		for field, v := range map[string]string{"manufacturer": d.Manufacturer, "device_model": d.Model, "software_version": d.Version} {
			if v != "" {
				p.set(field, safeText(v))
			}
		}
	case h.remove != "":
		bm.data["kind"], bm.data["entity"] = "ha_config", h.remove
		if e, ok := st.ha[h.remove]; ok {
			delete(st.ha, h.remove)
			if _, had := st.values[e.Sensor]; had {
				delete(st.values, e.Sensor)
				values = true
			}
			b.haEntitiesChanged(p)
		}
	default:
		e, ok := st.ha[h.state]
		if !ok {
			break
		}
		bm.data["entity"], bm.data["sensor"] = e.Key, e.Sensor
		if h.avail >= 0 {
			bm.data["kind"] = "availability"
			if h.avail < len(e.Availability) {
				if online, ok := e.Availability[h.avail].Online(m.Payload); ok {
					st.connected = online
					bm.data["connected"], bm.data["value"] = online, online
				}
			}
			break
		}
		bm.data["kind"] = "telemetry"
		v, ok := e.State(m.Payload)
		if !ok {
			break
		}
		bm.data["value"] = v
		if _, known := st.values[e.Sensor]; !known && len(st.values) >= MaxSensors {
			break
		}
		r := map[string]any{"value": v, "time": m.Time.UTC().Format(models.DatetimeFormat)}
		if e.Unit != "" {
			r["unit"], bm.data["unit"] = e.Unit, e.Unit
		}
		st.values[e.Sensor] = r
		values = true
	}
	if !m.Retained && !hasAvailability(st.ha) {
		st.connected = true // as any live message of a device says, unless it has its own availability
	}
	return values
}

// haEntitiesChanged stores a device's entities, its actions and type.
func (b *deviceBatch) haEntitiesChanged(p *pendingDevice) {
	st := p.st
	list := entityList(st.ha)
	st.device.HA = list
	if len(list) == 0 {
		p.set("ha_config", "")
	} else {
		p.set("ha_config", jsonText(st.ha))
	}
	var actions []string
	typ := "sensor"
	for _, e := range list {
		actions = append(actions, e.Actions()...)
		if e.CommandTopic != "" {
			typ = "actuator"
		}
	}
	st.device.Actions = actions
	p.set("actions", strings.Join(actions, ","))
	// The type follows the entities while it is what they (or nothing)
	// made it, as a descriptor's does.
	if len(list) > 0 && st.typ != typ && (st.typ == "device" || st.typ == "sensor" || st.typ == "actuator" || st.typ == "") {
		st.typ = typ
		p.set("type", typ)
	}
}

func hasAvailability(ha map[string]iot.HAEntity) bool {
	for _, e := range ha {
		if len(e.Availability) > 0 {
			return true
		}
	}
	return false
}
