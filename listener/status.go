package listener

// The service's reports: the daemon registry with each broker's owner,
// and the live instances. In a cluster every instance answers the same:
// the brokers another instance owns are listed too, with the state their
// owner's daemon wrote on the broker record.

import (
	"context"
	"log/slog"
	"os"
	"sort"
	"time"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// statusReadTimeout bounds the read of the broker records for Daemons.
const statusReadTimeout = 5 * time.Second

// Daemons reports the daemon registry, one entry per broker, with its
// owner; in a cluster also the active brokers this instance has no entry
// for.
func (s *Service) Daemons() []mqttmodel.DaemonStatus {
	ds := s.daemons.snapshot()
	if s.opts.Cluster == nil {
		self := s.self()
		for i := range ds {
			if d := s.daemons.running(ds[i].BrokerID); d != nil {
				ds[i].Owned, ds[i].Owner, ds[i].OwnerSince = true, self, d.started
			}
		}
		return ds
	}
	for i := range ds {
		if o, since, ok := s.opts.Cluster.Owner(ds[i].BrokerID); ok {
			ds[i].Owned, ds[i].Owner, ds[i].OwnerSince = true, o, since
		}
	}
	return s.withOthers(ds)
}

// withOthers completes the registry of a cluster's instance: a broker
// another instance owns takes its state from the broker record (this
// instance's entry, if any, only says that its own daemon stopped; one
// still running here, while it stops or a shared group's, is its own
// truth and stays), and an active broker no instance runs is listed as
// stopped.
func (s *Service) withOthers(ds []mqttmodel.DaemonStatus) []mqttmodel.DaemonStatus {
	ctx, cancel := context.WithTimeout(context.Background(), statusReadTimeout)
	defer cancel()
	states, err := s.store.BrokerStates(ctx)
	if err != nil {
		s.log.Warn("Unable to read the brokers' states: the status shows this instance's daemons only", slog.Any("error", err))
		return ds
	}
	at := make(map[int64]int, len(ds))
	for i, d := range ds {
		at[d.BrokerID] = i
	}
	for _, st := range states {
		o, since, owned := s.opts.Cluster.Owner(st.BrokerID)
		i, listed := at[st.BrokerID]
		switch {
		case owned && !o.Self && s.daemons.running(st.BrokerID) == nil:
			d := mqttmodel.DaemonStatus{BrokerID: st.BrokerID, BrokerName: st.BrokerName, ThreadIdentifier: threadIdentifierOf(o.PID, st.BrokerID),
				State: st.State, Since: since, LastError: st.LastError, ConnectedAt: st.ConnectedAt, Owned: true, Owner: o, OwnerSince: since}
			if listed {
				ds[i] = d
			} else {
				ds = append(ds, d)
			}
		case !listed:
			d := mqttmodel.DaemonStatus{BrokerID: st.BrokerID, BrokerName: st.BrokerName, ThreadIdentifier: threadIdentifier(st.BrokerID),
				State: mqttmodel.StateStopped, Owned: owned, Owner: o, OwnerSince: since}
			ds = append(ds, d)
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].BrokerID < ds[j].BrokerID })
	return ds
}

// Instances are the live instances of the cluster; alone, this one.
func (s *Service) Instances() []mqttmodel.InstanceStatus {
	if s.opts.Cluster == nil {
		return []mqttmodel.InstanceStatus{s.self()}
	}
	return s.opts.Cluster.Instances()
}

// self is this instance when alone: ID 0, the daemons running its brokers.
func (s *Service) self() mqttmodel.InstanceStatus {
	host, _ := os.Hostname()
	return mqttmodel.InstanceStatus{Host: host, PID: os.Getpid(), Started: s.started, Heartbeat: time.Now(), Self: true,
		Brokers: len(s.daemons.runningAll())}
}
