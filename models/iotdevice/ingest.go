package iotdevice

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// DeviceMessage is one received message for device ingestion.
type DeviceMessage struct {
	Topic    string
	Payload  []byte
	Retained bool      // replayed by the broker: says nothing of the device being online now
	Time     time.Time // when it was received
	// CorrelationData is an MQTT 5 message's Correlation Data (nil on
	// 3.1/3.1.1): a command response names its request by it.
	CorrelationData []byte
}

// IngestDeviceMessages updates a broker's devices from received messages,
// in arrival order. The listener's device worker calls it with the
// messages of a batch committed and acknowledged; it costs no query but
// its writes once the broker's patterns and devices are cached.
//
// Each message is matched against the broker's device topics (nothing
// happens when discovery is off). A device is created by its first
// message of any kind; an info message sets its descriptor (name while
// not renamed, manufacturer, model, version, actions, type while not
// changed by hand, driver); telemetry merges into last_values; an event
// becomes last_event; availability sets connected, and any live (not
// retained) message sets it and last_seen. Each device is written once
// per call, in one transaction.
//
// A message on the response topic completes its command instead
// (completeCommands, in the same transaction), and a device going online
// wakes the command worker, which sends its pending commands.
//
// Once committed, every message is notified on ChannelDevices as a
// NoteDeviceEvent carrying the device's data dict as an IoT box sends it
// ({"device_identifier", "time", "value", ...} plus "device_id" and
// "broker_id"), and a NoteDeviceUpdate tells of each device created or
// gone online or offline.
func (a *Addon) IngestDeviceMessages(ctx context.Context, brokerID int64, msgs []DeviceMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	topics, ok, err := a.deviceTopicsOf(ctx, brokerID)
	if err != nil || !ok || !topics.Discovery {
		return err
	}
	b := &deviceBatch{broker: brokerID, patterns: topics.Patterns, drivers: a.drivers, byID: map[string]*pendingDevice{}}
	var haGen uint64
	if topics.HADiscovery() {
		x, gen, err := a.haIndexOf(ctx, brokerID)
		if err != nil {
			return err
		}
		b.ha, haGen = x.clone(), gen
	}
	for _, m := range msgs {
		if b.ha != nil && b.classifyHA(a.log, &a.haCount, m) {
			continue
		}
		b.classify(a.log, m)
	}
	if len(b.order) == 0 && len(b.responses) == 0 {
		return nil
	}
	idents := make([]string, len(b.order))
	for i, p := range b.order {
		idents[i] = p.identifier
	}
	known, gen := a.cache.knownDevices(brokerID, idents)
	err = a.reg.Transaction(ctx, models.Superuser, nil, func(env *models.Env) error {
		su := env.Sudo()
		if err := b.load(su, known); err != nil {
			return err
		}
		b.apply()
		if err := b.write(su); err != nil {
			return err
		}
		return a.completeCommands(su, brokerID, b.responses)
	})
	if err != nil {
		return err
	}
	if b.cameOnline() {
		a.wakeCommands()
	}
	a.tellStates(b)
	states := make([]*deviceState, len(b.order))
	for i, p := range b.order {
		states[i] = p.st
	}
	a.cache.storeDevices(brokerID, gen, states)
	if b.ha != nil {
		a.cache.storeHA(brokerID, haGen, b.ha)
		if b.ha.changed {
			a.tellHATopics(brokerID)
		}
	}
	return nil
}

// deviceBatch is one call of IngestDeviceMessages.
type deviceBatch struct {
	broker   int64
	patterns iot.Patterns
	drivers  *iot.Registry
	byID     map[string]*pendingDevice
	order    []*pendingDevice // first message first
	msgs     []batchMessage   // arrival order
	// responses are the messages on the response topic, in arrival
	// order: command answers, not device data.
	responses []commandResponse
	// ha is the broker's Home Assistant discovery index as this batch
	// changes it; nil while that discovery is off.
	ha *haIndex
}

type batchMessage struct {
	dev  *pendingDevice
	msg  iot.Message
	data map[string]any // the driver's data dict
	ha   *haMsg         // a Home Assistant discovery message (ha_ingest.go)
}

// pendingDevice is one device's state through the batch.
type pendingDevice struct {
	identifier   string
	base         string       // topic base of its first message
	st           *deviceState // working copy
	created      bool         // no record yet
	wasConnected bool
	vals         map[string]any // fields to write
}

func (p *pendingDevice) set(field string, v any) { p.vals[field] = v }

// classify matches a message and queues it for its device; messages of
// no device, or of one whose id cannot be an identifier, are skipped.
func (b *deviceBatch) classify(log *slog.Logger, m DeviceMessage) {
	match, ok := b.patterns.Resolve(m.Topic, m.Payload)
	if !ok {
		return
	}
	if !validIdentifier(match.DeviceID) {
		log.Debug("Device message with an unusable device id skipped", slog.String("topic", m.Topic), slog.String("device", match.DeviceID))
		return
	}
	if match.Kind == iot.Response {
		b.responses = append(b.responses, commandResponse{match: match, corr: m.CorrelationData, payload: m.Payload, at: m.Time})
		return
	}
	p := b.pending(match.DeviceID, match.Base)
	b.msgs = append(b.msgs, batchMessage{dev: p, msg: iot.Message{Match: match, Topic: m.Topic, Payload: m.Payload, Retained: m.Retained, Time: m.Time}})
}

// pending is the batch's device ident, queued on its first message.
func (b *deviceBatch) pending(ident, base string) *pendingDevice {
	p := b.byID[ident]
	if p == nil {
		p = &pendingDevice{identifier: ident, base: safeText(base), vals: map[string]any{}}
		b.byID[ident] = p
		b.order = append(b.order, p)
	}
	return p
}

// validIdentifier: one topic level of valid text, as checkDevice wants.
func validIdentifier(id string) bool {
	return id != "" && utf8.ValidString(id) && strings.TrimSpace(id) == id && !strings.ContainsAny(id, "/+#\x00")
}

// deviceStateFields are the columns a deviceState is loaded from.
var deviceStateFields = []string{"identifier", "name", "type", "connected", "last_seen", "topic_base", "driver", "last_values", "info", "actions", "ha_config"}

// load gives each device of the batch its state: cached, else from its
// record, else a new one.
func (b *deviceBatch) load(su *models.Env, known map[string]*deviceState) error {
	var missing []string
	for _, p := range b.order {
		if s := known[p.identifier]; s != nil {
			p.st = s.clone()
		} else {
			missing = append(missing, p.identifier)
		}
		p.vals = map[string]any{}
	}
	if len(missing) > 0 {
		m := su.Registry().Model("iot.device")
		all := su.WithContext(map[string]any{"active_test": false})
		ids, err := all.Search(m, []any{[]any{"broker_id", "=", b.broker}, []any{"identifier", "in", missing}}, 0, 0, "id")
		if err != nil {
			return err
		}
		recs, err := su.Load(m, ids, deviceStateFields...)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if p := b.byID[rec.Str("identifier")]; p != nil {
				p.st = stateFromRecord(rec, b.patterns)
			}
		}
	}
	for _, p := range b.order {
		p.created = p.st == nil
		if p.created {
			p.st = &deviceState{identifier: p.identifier, name: p.identifier, typ: "device", values: map[string]any{},
				device: iot.Device{Identifier: p.identifier, Patterns: b.patterns}}
		}
		p.wasConnected = p.st.connected
	}
	return nil
}

// stateFromRecord reads a device record's state; its descriptor is parsed
// from the stored info, its actions are the record's.
func stateFromRecord(rec *models.Record, patterns iot.Patterns) *deviceState {
	s := &deviceState{
		id: rec.ID, identifier: rec.Str("identifier"), name: rec.Str("name"), typ: rec.Str("type"),
		connected: rec.Bool("connected"), lastSeen: rec.Time("last_seen"), topicBase: rec.Str("topic_base"),
		driver: rec.Str("driver"), values: map[string]any{},
	}
	if v := rec.Str("last_values"); v != "" {
		_ = json.Unmarshal([]byte(v), &s.values) // a hand-edited value that is not JSON starts afresh
		if s.values == nil {
			s.values = map[string]any{}
		}
	}
	s.device = deviceOf(rec, patterns)
	s.ha = parseEntities(rec.Str("ha_config"))
	return s
}

// deviceOf is the iot.Device of a record: its stored descriptor, with the
// record's identifier and actions (which a client may have edited).
func deviceOf(rec *models.Record, patterns iot.Patterns) iot.Device {
	d := iot.Device{}
	if info := rec.Str("info"); info != "" {
		if parsed, err := iot.ParseInfo([]byte(info)); err == nil {
			d = parsed
		}
	}
	d.Identifier, d.Patterns = rec.Str("identifier"), patterns
	if d.Name == "" {
		d.Name = d.Identifier
	}
	if a := rec.Str("actions"); a != "" {
		d.Actions = splitActions(a)
	}
	if ha := rec.Str("ha_config"); ha != "" {
		d.HA = entityList(parseEntities(ha))
	}
	return d
}

func splitActions(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// MaxSensors bounds last_values: a device naming a new sensor in
// every message (a shared topic with odd keys) must not grow its record
// without end.
const MaxSensors = 100

// apply runs the messages through the drivers, in order, into the
// devices' working states.
func (b *deviceBatch) apply() {
	values := map[*pendingDevice]bool{}
	for i := range b.msgs {
		bm := &b.msgs[i]
		p, st, m := bm.dev, bm.dev.st, bm.msg
		if bm.ha != nil {
			values[p] = b.applyHA(bm) || values[p]
			if !m.Retained && m.Time.After(st.lastSeen) {
				st.lastSeen = m.Time
				p.set("last_seen", m.Time)
			}
			continue
		}
		u := b.drivers.Handle(st.device, m)
		bm.data = u.Data
		if u.Info != nil {
			b.applyInfo(p, *u.Info, m.Payload)
		}
		for _, rd := range u.Readings {
			if _, known := st.values[rd.Sensor]; !known && len(st.values) >= MaxSensors {
				continue
			}
			v := map[string]any{"value": rd.Value, "time": m.Time.UTC().Format(models.DatetimeFormat)}
			if rd.Unit != "" {
				v["unit"] = rd.Unit
			}
			st.values[rd.Sensor] = v
			values[p] = true
		}
		if u.Event != nil {
			ev := make(map[string]any, len(u.Event)+1)
			for k, v := range u.Event {
				ev[k] = v
			}
			if _, has := ev["time"]; !has {
				ev["time"] = m.Time.UTC().Format(models.DatetimeFormat)
			}
			p.set("last_event", jsonText(ev))
		}
		switch {
		case u.Online != nil:
			st.connected = *u.Online
		case !m.Retained:
			st.connected = true
		}
		if !m.Retained && m.Time.After(st.lastSeen) {
			st.lastSeen = m.Time
			p.set("last_seen", m.Time)
		}
	}
	for _, p := range b.order {
		st := p.st
		if values[p] {
			p.set("last_values", jsonText(st.values))
		}
		if st.connected != p.wasConnected || p.created {
			p.set("connected", st.connected)
		}
		if drv := b.drivers.Driver(st.device).Name(); drv != st.driver {
			st.driver = drv
			p.set("driver", drv)
		}
		if st.topicBase == "" && p.base != "" {
			st.topicBase = p.base
			p.set("topic_base", p.base)
		}
	}
}

// applyInfo takes a new descriptor. The name and type follow it while
// they are what the previous descriptor (or the identifier) made them,
// so a device renamed by hand keeps its name.
func (b *deviceBatch) applyInfo(p *pendingDevice, nd iot.Device, raw []byte) {
	st := p.st
	old := st.device
	if name := safeText(nd.Name); name != st.name && (st.name == st.identifier || st.name == old.Name || st.name == "") {
		st.name = name
		p.set("name", name)
	}
	if st.typ != nd.Type && (st.typ == "device" || st.typ == old.Type || st.typ == "") {
		st.typ = nd.Type
		p.set("type", nd.Type)
	}
	for field, v := range map[string]string{"manufacturer": nd.Manufacturer, "device_model": nd.Model,
		"software_version": nd.Version, "actions": strings.Join(nd.Actions, ",")} {
		if v != "" {
			p.set(field, safeText(v))
		}
	}
	p.set("info", mqtt.PayloadText(raw))
	st.device = nd
}

// tellStates tells the OnDeviceState functions of each device of the
// batch gone online (created online too) or offline.
func (a *Addon) tellStates(b *deviceBatch) {
	if len(a.onState) == 0 {
		return
	}
	for _, p := range b.order {
		if p.created && !p.st.connected || !p.created && p.st.connected == p.wasConnected {
			continue // a device discovered offline did not go offline
		}
		for _, fn := range a.onState {
			fn(b.broker, p.st.id, p.identifier, p.st.connected)
		}
	}
}

// cameOnline reports whether a device of the batch went online.
func (b *deviceBatch) cameOnline() bool {
	for _, p := range b.order {
		if p.st.connected && (p.created || !p.wasConnected) {
			return true
		}
	}
	return false
}

// write creates or updates each device, then queues the notifications.
func (b *deviceBatch) write(su *models.Env) error {
	m := su.Registry().Model("iot.device")
	for _, p := range b.order {
		if !p.created {
			if len(p.vals) == 0 {
				continue
			}
			found, err := updateDevice(su, m, p.st.id, p.vals)
			if err != nil {
				return err
			}
			if found {
				continue
			}
			p.created = true // deleted since it was cached: create it again
		}
		id, err := su.Create(m, b.newDeviceVals(p))
		if err != nil {
			return err
		}
		p.st.id = id
	}
	su.NotifyAfterCommit(b.notes()...)
	return nil
}

// newDeviceVals are the values of a device record created by ingestion.
func (b *deviceBatch) newDeviceVals(p *pendingDevice) map[string]any {
	st := p.st
	vals := map[string]any{
		"identifier": st.identifier, "name": st.name, "type": st.typ, "broker_id": b.broker, "connection": "mqtt",
		"connected": st.connected, "topic_base": st.topicBase, "driver": st.driver,
	}
	if len(st.values) > 0 {
		vals["last_values"] = jsonText(st.values)
	}
	if !st.lastSeen.IsZero() {
		vals["last_seen"] = st.lastSeen
	}
	for k, v := range p.vals {
		if _, set := vals[k]; !set {
			vals[k] = v
		}
	}
	return vals
}

// updateDevice writes ingestion's fields of one device without the ORM's
// constraints and recomputes (nothing depends on them), and reports
// whether the record still exists.
func updateDevice(su *models.Env, m *models.Model, id int64, vals map[string]any) (bool, error) {
	cols := make(map[string]any, len(vals)+1)
	for k, v := range vals {
		cols[k] = v
	}
	cols["write_date"] = time.Now()
	n, err := su.SetColumns(m, []int64{id}, cols)
	return n > 0, err
}

// notes are the batch's notifications: one event per message, one update
// per device created or gone online or offline.
func (b *deviceBatch) notes() []models.Notification {
	notes := make([]models.Notification, 0, len(b.msgs)+len(b.order))
	for _, bm := range b.msgs {
		data := make(map[string]any, len(bm.data)+4)
		for k, v := range bm.data {
			data[k] = v
		}
		data["device_identifier"] = bm.dev.identifier
		data["time"] = epochSeconds(bm.msg.Time)
		data["device_id"] = bm.dev.st.id
		data["broker_id"] = b.broker
		notes = append(notes, models.Notification{Channel: ChannelDevices, Type: NoteDeviceEvent, Payload: data})
	}
	for _, p := range b.order {
		if !p.created && p.st.connected == p.wasConnected {
			continue
		}
		st := p.st
		lastSeen := any(false)
		if !st.lastSeen.IsZero() {
			lastSeen = st.lastSeen.UTC().Format(models.DatetimeFormat)
		}
		notes = append(notes, models.Notification{Channel: ChannelDevices, Type: NoteDeviceUpdate, Payload: map[string]any{
			"device_id": st.id, "device_identifier": st.identifier, "broker_id": b.broker, "name": st.name,
			"connected": st.connected, "last_seen": lastSeen, "created": p.created,
		}})
	}
	return notes
}

// epochSeconds is an IoT box's event time: float seconds, to the
// microsecond.
func epochSeconds(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

// jsonText marshals plain decoded JSON values; they always marshal.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// safeText makes a device's text storable: valid UTF-8 without NUL.
func safeText(s string) string { return mqtt.PayloadText([]byte(s)) }
