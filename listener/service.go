package listener

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/rules"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configures a Service; zero values take the defaults.
type Options struct {
	Logger        *slog.Logger
	Metrics       prometheus.Registerer // nil: no metrics
	QueueSize     int                   // bound of the ingest queue in messages, default 100_000
	BatchSize     int                   // most rows per commit, default 1000
	FlushInterval time.Duration         // longest wait to fill a batch when messages keep coming, default 5ms
	PurgeInterval time.Duration         // retention job period, default 10m

	// QueueBytes bounds the ingest queue in bytes: the topic and payload
	// bytes (plus a small overhead per message) of the received messages
	// read from the brokers' sockets and not yet stored, wherever they
	// are (paho's goroutines, the queue, the batch being written). While
	// it is spent the connections stop reading, so the brokers slow down.
	// Default 32 MiB. It also caps every broker's largest payload.
	QueueBytes int

	// DeviceQueueBytes bounds the device messages (topic and payload
	// bytes) acknowledged and waiting for device ingestion; default 16 MiB.
	DeviceQueueBytes int

	// Rules evaluates the automation rules on the received messages of
	// the brokers it watches, once committed and acknowledged (see
	// rules.go); nil: no rules.
	Rules RuleEngine

	// RulesQueueBytes bounds the messages (topic and payload bytes, plus
	// a small overhead each) acknowledged and waiting for the rules;
	// default 16 MiB.
	RulesQueueBytes int

	// Cluster coordinates this instance with the others on the same
	// PostgreSQL database (cluster.go); nil: alone, every broker is ours.
	Cluster Cluster

	// deviceIngest replaces iotdevice.Addon.IngestDeviceMessages (tests).
	deviceIngest func(ctx context.Context, brokerID int64, msgs []iotdevice.DeviceMessage) error
	// afterCommit, when set, is called by the writer with each batch it
	// committed, before any of it is acknowledged (tests: a connection
	// killed there leaves committed messages unacknowledged).
	afterCommit func(batch []item)
	// wrapConn, when set, wraps each daemon connection last (tests: to
	// cut it).
	wrapConn func(net.Conn) net.Conn
}

const (
	defaultQueueSize     = 100_000
	defaultQueueBytes    = 32 << 20
	defaultBatchSize     = 1000
	defaultFlushInterval = 5 * time.Millisecond
	defaultPurgeInterval = 10 * time.Minute
	defaultDeviceQueue   = 16 << 20
	defaultRulesQueue    = 16 << 20

	// drainTimeout bounds the final flush at shutdown when the database
	// keeps failing: what is left then is not acknowledged, so the broker
	// redelivers it to a persistent session. The device and rules queues
	// are drained within the same deadline; messages still queued then
	// are lost to them (logged and counted).
	drainTimeout = 30 * time.Second
)

// Why daemons stop, as their StopReason says.
var (
	errServiceStopped = errors.New("service stopped")
	errShutdown       = errors.New("server shutting down")
	errBrokerChanged  = errors.New("broker settings changed")
	errBrokerInactive = errors.New("broker archived or deleted")
	errClosed         = errors.New("listener: the service has shut down")
	errNotOwner       = errors.New("broker owned by another instance")
)

// Service runs the MQTT daemons and the ingest pipeline. It implements
// the mqtt addon's BrokerControl.
type Service struct {
	store *mqttmodel.Addon // brokers, subscriptions, history
	iot   *iotdevice.Addon // device discovery and ingestion
	log   *slog.Logger
	opts  Options
	m     *metrics

	queue   chan item                          // the ingest queue, shared by every daemon
	gate    *byteGate                          // its byte budget
	devices *jobQueue[iotdevice.DeviceMessage] // acknowledged device messages, for the device worker
	rules   *jobQueue[rules.Message]           // acknowledged messages of watched brokers, for the rules worker

	deviceIngest func(ctx context.Context, brokerID int64, msgs []iotdevice.DeviceMessage) error

	// opMu serialises StartService, StopService, BrokerChanged and the
	// shutdown, so that one broker's daemons never overlap.
	opMu    sync.Mutex
	running atomic.Bool // between StartService and StopService
	closed  atomic.Bool // Run has ended

	daemons *registry

	// base is the parent context of every daemon; Run cancels it on
	// shutdown.
	base       context.Context
	baseCancel context.CancelCauseFunc
	wg         sync.WaitGroup // daemons
	ran        atomic.Bool

	// helpers are clean-ups of short-lived clients whose caller stopped
	// waiting; helpersMu keeps them from starting while Run waits for them.
	helpersMu     sync.Mutex
	helpersClosed bool
	helpers       sync.WaitGroup

	drainTimeout time.Duration // tests shorten it

	started time.Time // New's time: this instance's start, alone
}

var _ mqttmodel.BrokerControl = (*Service)(nil)

// New returns a Service storing into the mqtt addon store, and device
// messages into the iot addon. Nothing runs until Run.
func New(store *mqttmodel.Addon, iot *iotdevice.Addon, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = defaultQueueSize
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = defaultBatchSize
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = defaultFlushInterval
	}
	if opts.PurgeInterval <= 0 {
		opts.PurgeInterval = defaultPurgeInterval
	}
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = defaultQueueBytes
	}
	if opts.DeviceQueueBytes <= 0 {
		opts.DeviceQueueBytes = defaultDeviceQueue
	}
	if opts.RulesQueueBytes <= 0 {
		opts.RulesQueueBytes = defaultRulesQueue
	}
	s := &Service{store: store, iot: iot, log: opts.Logger, opts: opts, queue: make(chan item, opts.QueueSize), gate: newByteGate(opts.QueueBytes),
		devices: newJobQueue[iotdevice.DeviceMessage](opts.DeviceQueueBytes), rules: newJobQueue[rules.Message](opts.RulesQueueBytes), deviceIngest: opts.deviceIngest, daemons: newRegistry(), drainTimeout: drainTimeout,
		started: time.Now()}
	if s.deviceIngest == nil {
		s.deviceIngest = iot.IngestDeviceMessages
	}
	if iot != nil {
		iot.OnHATopics(s.haTopicsChanged)
	}
	s.m = newMetrics(opts.Metrics, func() float64 { return float64(len(s.queue)) }, func() float64 { return float64(s.gate.size()) },
		s.devices.size, s.rules.size, s.log)
	s.base, s.baseCancel = context.WithCancelCause(context.Background())
	return s
}

// Run runs the service's own goroutines (batch writer, device worker,
// rules worker, retention purge) until ctx is done; then it stops every
// daemon, flushes and commits what is queued, lets the device and rules
// workers finish what they were handed, and returns. Every goroutine it starts is waited for. Whether
// the service starts at boot is the server's decision.
func (s *Service) Run(ctx context.Context) error {
	if !s.ran.CompareAndSwap(false, true) {
		return errors.New("listener: Run called twice")
	}
	var wg sync.WaitGroup
	if s.opts.Cluster != nil {
		s.opts.Cluster.Serve(s.clusterHandlers())
		wg.Go(func() { s.followOwnership(ctx) })
	}
	logger := s.log
	pahoLog.Store(logger)
	defer pahoLog.CompareAndSwap(logger, nil)

	stopWriter := make(chan struct{})
	// drain ends drainTimeout after the shutdown began: the writer and
	// the workers then give up what the database (or the rules) will not
	// take.
	drain, endDrain := context.WithCancel(context.Background())
	defer endDrain()
	wg.Go(func() {
		// The workers end once they finished what the writer handed them.
		defer s.rules.close()
		defer s.devices.close()
		s.write(drain, stopWriter)
	})
	wg.Go(func() { s.ingestDevices(drain) })
	if s.opts.Rules != nil {
		wg.Go(func() { s.evaluateRules(drain) })
	}
	wg.Go(func() { s.purgeLoop(ctx) })

	// Whether the service starts at boot is the server's decision (it goes
	// through mqtt.service.start_mqtt_service, which updates the record).
	<-ctx.Done()
	s.opMu.Lock()
	s.closed.Store(true)
	s.running.Store(false)
	s.baseCancel(errShutdown)
	s.opMu.Unlock()
	s.wg.Wait() // daemons first, while the writer still drains the queue
	close(stopWriter)
	deadline := time.AfterFunc(s.drainTimeout, endDrain)
	wg.Wait()
	deadline.Stop()
	s.helpersMu.Lock()
	s.helpersClosed = true
	s.helpersMu.Unlock()
	s.helpers.Wait()
	return nil
}

// ServiceRunning reports whether the service was started and not stopped.
func (s *Service) ServiceRunning() bool { return s.running.Load() }

// StartService starts a daemon for each active broker that has none.
func (s *Service) StartService(ctx context.Context) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if s.closed.Load() {
		return errClosed
	}
	cfgs, err := s.brokers(ctx)
	if err != nil {
		return err
	}
	s.running.Store(true)
	for _, cfg := range cfgs {
		if s.runsHere(cfg.BrokerConfig) && s.daemons.running(cfg.ID) == nil {
			s.startDaemon(cfg)
		}
	}
	s.announce(ctx, 0)
	return nil
}

// StopService stops every daemon and waits for them, or for ctx.
func (s *Service) StopService(ctx context.Context) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.running.Store(false)
	s.announce(ctx, 0)
	ds := s.daemons.runningAll()
	for _, d := range ds {
		d.cancel(errServiceStopped)
	}
	for _, d := range ds {
		select {
		case <-d.done:
		case <-ctx.Done():
			return ctx.Err() // they still stop, and Run waits for them
		}
	}
	return nil
}

// BrokerChanged restarts, starts or stops a broker's daemon after its
// record changed, when the service runs, and tells the other instances.
func (s *Service) BrokerChanged(ctx context.Context, brokerID int64) {
	s.brokerChanged(ctx, brokerID)
	s.announce(ctx, brokerID)
}

// brokerChanged is BrokerChanged on this instance only (an announcement
// of another's): the daemon runs here only when this instance owns it,
// or on every instance for a shared broker (runsHere).
func (s *Service) brokerChanged(ctx context.Context, brokerID int64) {
	if brokerID == 0 {
		s.serviceAnnounced(ctx)
		return
	}
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if s.closed.Load() {
		return
	}
	if !s.running.Load() {
		s.forgetIfDeleted(ctx, brokerID)
		return
	}
	active, err := s.brokers(ctx)
	if err != nil {
		s.log.Error("Unable to load the changed broker", slog.Int64("broker_id", brokerID), slog.Any("error", err))
		return
	}
	cur := s.daemons.running(brokerID)
	for _, cfg := range active {
		if cfg.ID == brokerID {
			if cur != nil && s.shared(cfg.BrokerConfig) && reflect.DeepEqual(cur.cfg, cfg) {
				// Only its subscriptions changed (another instance's
				// Subscribe, say): every instance's daemon follows them
				// on its connection, which a restart would not do for a
				// persistent session's old filters.
				cur.resubscribe(ctx)
				return
			}
			if cur != nil {
				cur.stop(errBrokerChanged)
			}
			if s.runsHere(cfg.BrokerConfig) {
				s.startDaemon(cfg)
			}
			return
		}
	}
	if cur != nil {
		cur.stop(errBrokerInactive)
	}
	s.forgetIfDeleted(ctx, brokerID)
}

// forgetIfDeleted drops the registry entry and metrics of a deleted
// broker; an archived one keeps its entry, which says why it stopped.
func (s *Service) forgetIfDeleted(ctx context.Context, brokerID int64) {
	if !s.daemons.has(brokerID) {
		return
	}
	if cfgs, err := s.store.BrokerConfigs(ctx, brokerID); err == nil && len(cfgs) == 0 {
		s.daemons.remove(brokerID)
		s.m.forget(brokerID)
	}
}

// brokerSetup is what a daemon runs on: a broker's connection settings
// and its device discovery settings.
type brokerSetup struct {
	mqttmodel.BrokerConfig
	Devices iotdevice.DeviceTopics
}

// brokers loads the setup of every active broker.
func (s *Service) brokers(ctx context.Context) ([]brokerSetup, error) {
	cfgs, err := s.store.BrokerConfigs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]brokerSetup, 0, len(cfgs))
	for _, cfg := range cfgs {
		topics, _, err := s.iot.BrokerTopics(ctx, cfg.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, brokerSetup{BrokerConfig: cfg, Devices: topics})
	}
	return out, nil
}

// goHelper runs fn on a goroutine Run waits for, or right away once Run
// has ended.
func (s *Service) goHelper(fn func()) {
	s.helpersMu.Lock()
	defer s.helpersMu.Unlock()
	if s.helpersClosed {
		fn()
		return
	}
	s.helpers.Go(fn)
}

// startDaemon starts one broker's daemon; the caller holds opMu.
func (s *Service) startDaemon(cfg brokerSetup) {
	e := s.daemons.entry(cfg.ID, cfg.Name)
	ctx, cancel := context.WithCancelCause(s.base)
	d := newDaemon(s, cfg, e, cancel)
	d.ctx = ctx
	s.daemons.setDaemon(e, d, nil)
	s.wg.Go(func() { d.run(ctx) })
}
