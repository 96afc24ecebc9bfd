package listener

import (
	"context"
	"log/slog"
	"time"
)

// purgeLoop applies each broker's history retention every PurgeInterval
// until ctx ends. On PostgreSQL it also creates the history's partitions
// ahead of time, at start and every period (Migrate made them at start;
// a server running for days needs the next ones before their first row,
// or those rows land in the default partition).
func (s *Service) purgeLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.PurgeInterval)
	defer t.Stop()
	s.maintainHistory(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.maintainHistory(ctx)
			n, err := s.store.PurgeHistory(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Warn("Unable to purge the MQTT history", slog.Any("error", err))
			case n > 0:
				s.log.Info("MQTT history purged", slog.Int64("rows", n))
			}
		}
	}
}

// maintainHistory creates the history partitions due; a failure is
// logged and retried next period (the default partition takes the rows
// meanwhile).
func (s *Service) maintainHistory(ctx context.Context) {
	if err := s.store.MaintainHistory(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("Unable to create the MQTT history partitions", slog.Any("error", err))
	}
}
