package listener

import (
	"context"
	"log/slog"
	"time"
)

// purgeLoop applies each broker's history retention every PurgeInterval
// until ctx ends.
func (s *Service) purgeLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.PurgeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
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
