package listener

// Ownership in a cluster (Options.Cluster): daemons run only for the
// brokers this instance owns; when the ownership changes the daemons of
// the brokers gained start and those of the brokers lost stop at once.

import (
	"context"
	"log/slog"
)

// owns reports whether this instance runs the broker's daemon: always
// when alone.
func (s *Service) owns(brokerID int64) bool {
	return s.opts.Cluster == nil || s.opts.Cluster.Owns(brokerID)
}

// announce tells the other instances a broker (0: the service) changed;
// a failure is logged, the others' claim rounds catch up within a
// heartbeat.
func (s *Service) announce(ctx context.Context, brokerID int64) {
	if s.opts.Cluster == nil {
		return
	}
	if err := s.opts.Cluster.Announce(ctx, brokerID); err != nil {
		s.log.Warn("Unable to announce a change to the other instances", slog.Int64("broker_id", brokerID), slog.Any("error", err))
	}
}

// followOwnership reconciles the daemons with the ownership each time it
// changes, until ctx ends.
func (s *Service) followOwnership(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.opts.Cluster.Changed():
			s.reconcile(ctx)
		}
	}
}

// reconcile stops the daemons of the brokers no longer owned and, when
// the service runs, starts those of the owned active brokers without one.
func (s *Service) reconcile(ctx context.Context) {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.reconcileLocked(ctx)
}

// reconcileLocked is reconcile; the caller holds opMu.
func (s *Service) reconcileLocked(ctx context.Context) {
	if s.closed.Load() {
		return
	}
	for _, d := range s.daemons.runningAll() {
		if !s.runsHere(d.cfg.BrokerConfig) {
			d.stop(errNotOwner)
		}
	}
	if !s.running.Load() {
		return
	}
	cfgs, err := s.brokers(ctx)
	if err != nil {
		s.log.Error("Unable to load the brokers after an ownership change", slog.Any("error", err))
		return
	}
	for _, cfg := range cfgs {
		if s.runsHere(cfg.BrokerConfig) && s.daemons.running(cfg.ID) == nil {
			s.startDaemon(cfg)
		}
	}
}

// serviceAnnounced follows another instance's start or stop of the
// service: its record's status is the cluster's running state.
func (s *Service) serviceAnnounced(ctx context.Context) {
	should, err := s.store.ServiceShouldRun(ctx)
	if err != nil {
		s.log.Error("Unable to read the service's state after an announcement", slog.Any("error", err))
		return
	}
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if s.closed.Load() || should == s.running.Load() {
		return
	}
	s.running.Store(should)
	if !should {
		for _, d := range s.daemons.runningAll() {
			d.cancel(errServiceStopped)
		}
		return
	}
	s.reconcileLocked(ctx)
}
