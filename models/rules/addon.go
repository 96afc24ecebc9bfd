package rules

import (
	"log/slog"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// ChannelRules carries the rules' firings: a NoteFired per firing (rule
// id, name, topic, value, fire_count), for the pages' live counters, and
// the notify action's NoteNotify (rule id, name, topic, value, message).
const (
	ChannelRules = "mqtt_rule"
	NoteFired    = "mqtt_rule_fired"
	NoteNotify   = "mqtt_rule_notify"
)

// Options configure the addon; zero values take the defaults.
type Options struct {
	// QueueBytes bounds the actions waiting to be done (with their
	// trigger payloads), delayed ones included: past it Evaluate waits.
	// Default 8 MiB.
	QueueBytes int
	// Lanes is how many actions run at once. The actions on one target
	// (a topic template, a device, a signal) run one after the other, in
	// firing order. Default 4.
	Lanes int
	// Retries is how many times a failing action of QoS 1 or 2 is tried
	// again (QoS 0: never), the first RetryBackoff after the failure, then
	// twice as long each time. Defaults 3 and 1 s.
	Retries      int
	RetryBackoff time.Duration
	// MaxFiringsPerSecond pauses a rule that fires more often (a loop, or
	// a filter far too wide) until someone edits it. Default 20; below 0:
	// no limit. Notify rules, which cannot loop, have none.
	MaxFiringsPerSecond int
	// LogRetention and LogMaxRows bound mqtt.rule.log. Defaults 30 days
	// and 100,000 rows.
	LogRetention time.Duration
	LogMaxRows   int64
}

// The defaults of Options.
const (
	DefaultQueueBytes          = 8 << 20
	DefaultLanes               = 4
	DefaultRetries             = 3
	DefaultRetryBackoff        = time.Second
	DefaultMaxFiringsPerSecond = 20
	DefaultLogRetention        = 30 * 24 * time.Hour
	DefaultLogMaxRows          = 100_000
)

func (o *Options) ensureDefaults() {
	if o.QueueBytes <= 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	if o.Lanes <= 0 {
		o.Lanes = DefaultLanes
	}
	if o.Retries <= 0 {
		o.Retries = DefaultRetries
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.MaxFiringsPerSecond == 0 {
		o.MaxFiringsPerSecond = DefaultMaxFiringsPerSecond
	}
	if o.LogRetention <= 0 {
		o.LogRetention = DefaultLogRetention
	}
	if o.LogMaxRows <= 0 {
		o.LogMaxRows = DefaultLogMaxRows
	}
}

// Addon is the automation addon: give it to models.New after the mqtt
// and iot addons, run Run beside the listener service, and hand it to
// the listener's rules worker (Watching, Evaluate).
type Addon struct {
	opts   Options
	mqtt   *mqtt.Addon
	iot    *iotdevice.Addon
	reg    *models.Registry // set once built
	log    *slog.Logger
	logs   *models.Bulk // the log rows' insert
	engine engine
	work   *worker
}

// New returns the addon, which acts through the mqtt and iot addons.
func New(mq *mqtt.Addon, iot *iotdevice.Addon, opts Options) *Addon {
	opts.ensureDefaults()
	a := &Addon{opts: opts, mqtt: mq, iot: iot, log: slog.Default()}
	a.work = newWorker(opts)
	a.engine.changed = make(chan struct{}, 1)
	iot.OnDeviceState(a.deviceState)
	return a
}

// Manifest declares mqtt.rule and mqtt.rule.log.
func (a *Addon) Manifest() models.Manifest {
	return models.Manifest{
		Name:    "rules",
		Depends: []string{"mqtt", "iot"},
		Models:  []*models.Model{a.ruleModel(), logModel()},
		Extends: a.linkExtensions(),
		Built: func(r *models.Registry) error {
			a.reg, a.log = r, r.Logger()
			var err error
			a.logs, err = r.Bulk("mqtt.rule.log", logFields...)
			return err
		},
	}
}
