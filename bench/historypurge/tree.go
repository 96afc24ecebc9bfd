package main

// The tree mode: mqtt.broker.get_topic_tree over the topic summary built
// from -rows history rows (the back-fill, RebuildTopicSummary, timed
// too), against the reference a client without the summary would run:
// read_group on the history by topic, in the same run.

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// fillTreeHistory stores rows received messages over the last day on
// topics site<0-9>/line<0-9>/dev<n>, topics of them in all (a
// three-level tree: 10, 100, then topics/100 devices per line).
func (s *serverDB) fillTreeHistory(ctx context.Context, rows, topics int64) error {
	res, err := s.reg.Execute(ctx, models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "create",
		Args: []any{map[string]any{"name": "bench"}}})
	if err != nil {
		return err
	}
	s.broker = res.(int64)
	now := time.Now().UTC()
	if _, err := s.reg.EnsurePartitions(ctx, historyModel, now.Add(-24*time.Hour)); err != nil {
		return err
	}
	db := s.reg.DB().WithContext(ctx)
	if err := db.Exec(`INSERT INTO mqtt_signal_history (broker_id, topic, payload, direction, qos, retain, display_name, "timestamp")
		SELECT ?, 'site' || (t % 10) || '/line' || ((t / 10) % 10) || '/dev' || (t / 100), '{"t":' || (g % 40) || '}', 'receive', 0, false, 'bench',
			?::timestamp + (g * 86000e6::double precision / ?) * interval '1 microsecond'
		FROM (SELECT g, g % ? AS t FROM generate_series(0, ? - 1) g) s`,
		s.broker, now.Add(-24*time.Hour), rows, topics, rows).Error; err != nil {
		return fmt.Errorf("fill the history: %w", err)
	}
	return db.Exec(`VACUUM ANALYZE mqtt_signal_history`).Error
}

// median runs fn n times and returns the median duration.
func median(n int, fn func() error) (time.Duration, error) {
	var ds []time.Duration
	for range n {
		t0 := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

// runTree measures the tree over rows history rows of topics topics.
func runTree(ctx context.Context, pgURL string, rows, topics int64) error {
	s, err := openServerDB(ctx, pgURL, benchDB+"_tree", false)
	if err != nil {
		return err
	}
	defer s.close()
	t0 := time.Now()
	if err := s.fillTreeHistory(ctx, rows, topics); err != nil {
		return err
	}
	slog.Info("history filled", slog.Int64("rows", rows), slog.Duration("took", time.Since(t0)))
	t1 := time.Now()
	if err := s.addon.RebuildTopicSummary(ctx); err != nil {
		return err
	}
	backfill := time.Since(t1)
	var n, total int64
	db := s.reg.DB().WithContext(ctx)
	if err := db.Raw(`SELECT count(*), COALESCE(sum(message_count), 0) FROM mqtt_topic_summary`).Row().Scan(&n, &total); err != nil {
		return err
	}
	if n != topics || total != rows {
		return fmt.Errorf("summary: %d topics, %d messages, want %d and %d", n, total, topics, rows)
	}
	tree := func(kwargs map[string]any, check func(map[string]any) error) func() error {
		return func() error {
			res, err := s.reg.Execute(ctx, models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "get_topic_tree",
				Args: []any{[]any{s.broker}}, Kwargs: kwargs})
			if err != nil {
				return err
			}
			return check(res.(map[string]any))
		}
	}
	levels := func(want int) func(map[string]any) error {
		return func(r map[string]any) error {
			if got := len(r["nodes"].([]any)); got != want {
				return fmt.Errorf("%d nodes, want %d", got, want)
			}
			return nil
		}
	}
	cases := []struct {
		name   string
		kwargs map[string]any
		want   int
	}{
		{"root level", nil, 10},
		{"a line's devices (site3/line4)", map[string]any{"prefix": "site3/line4"}, int(topics / 100)},
		{"search dev7, 8 levels", map[string]any{"search": "dev7", "depth": int64(8)}, 10},
	}
	figures := make([]time.Duration, len(cases))
	for i, c := range cases {
		if figures[i], err = median(21, tree(c.kwargs, levels(c.want))); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	ref, err := median(3, func() error {
		res, err := s.reg.Execute(ctx, models.Call{UID: models.AdminUID, Model: historyModel, Method: "read_group",
			Kwargs: map[string]any{"domain": []any{[]any{"broker_id", "=", s.broker}}, "fields": []any{"topic"}, "groupby": []any{"topic"}, "lazy": true}})
		if err != nil {
			return err
		}
		if got := len(res.([]*models.Dict)); got != int(topics) {
			return fmt.Errorf("read_group: %d groups, want %d", got, topics)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("topic tree over the summary of %d history rows, %d topics (PostgreSQL, medians)\n", rows, topics)
	fmt.Printf("back-fill (RebuildTopicSummary, once at upgrade): %.3f s\n", backfill.Seconds())
	fmt.Printf("reference read_group(history, groupby topic):    %8.2f ms\n", float64(ref.Microseconds())/1000)
	for i, c := range cases {
		fmt.Printf("get_topic_tree %-36s %8.2f ms  reference/tree %.0fx\n", c.name+":", float64(figures[i].Microseconds())/1000, ref.Seconds()/figures[i].Seconds())
	}
	return nil
}
