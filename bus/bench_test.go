package bus

import (
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// BenchmarkWebSocketFanOut measures delivering notes to many sockets over
// loopback: b.N notes notified in batches, every client reading them all.
// It reports notes delivered per second across the clients.
func BenchmarkWebSocketFanOut(b *testing.B) {
	for _, clients := range []int{10, 100, 1000} {
		b.Run(itoaBench(clients), func(b *testing.B) {
			e := newEnv(b, mode{"memory", "sqlite"}, Options{Logger: discardLogger(), MaxBuffered: 100_000, QueueSize: 100_000, SubscriberBuffer: 100_000, SubscriberBufferBytes: 1 << 40})
			sid := e.session(models.AdminUID)
			conns := make([]*websocket.Conn, clients)
			for i := range conns {
				conns[i] = e.mustDial(sid)
				subscribe(b, conns[i], realtime, 0)
			}
			testkit.Eventually(b, guard, "the subscriptions", func() bool { return e.bus.subCount() == clients })
			var wg sync.WaitGroup
			start := time.Now()
			b.ResetTimer()
			for _, c := range conns {
				wg.Go(func() {
					_ = c.SetReadDeadline(time.Now().Add(5 * time.Minute))
					for n := 0; n < b.N; {
						var batch []wireNote
						if err := c.ReadJSON(&batch); err != nil {
							b.Error(err)
							return
						}
						n += len(batch)
					}
				})
			}
			for i := 0; i < b.N; i += 100 {
				batch := make([]models.Notification, 0, 100)
				for j := i; j < min(i+100, b.N); j++ {
					batch = append(batch, note(j))
				}
				e.bus.Notify(b.Context(), batch...)
				for len(e.bus.queue) > cap(e.bus.queue)/2 {
					time.Sleep(time.Millisecond) // stay under the queue bound: drops would hang the readers
				}
			}
			wg.Wait()
			b.StopTimer()
			if d := e.bus.Dropped(); d > 0 {
				b.Fatalf("%d notes dropped", d)
			}
			b.ReportMetric(float64(b.N*clients)/time.Since(start).Seconds(), "deliveries/s")
		})
	}
}

func itoaBench(n int) string { return jsonInt(int64(n)) + "clients" }

// BenchmarkPublish measures the bus's own throughput, Notify to a Go
// subscriber, in memory and (when configured) through PostgreSQL: b.N notes
// notified in bursts of 100. It reports notes/s; the issue asks for at
// least 5,000.
func BenchmarkPublish(b *testing.B) {
	for _, m := range modes(b) {
		b.Run(m.name, func(b *testing.B) {
			e := newEnv(b, m, Options{Logger: discardLogger(), QueueSize: 100_000, SubscriberBuffer: 1 << 30, SubscriberBufferBytes: 1 << 40, MaxBuffered: 100_000})
			sub := e.bus.Subscribe(realtime, e.bus.LastID())
			defer sub.Close()
			done := make(chan int)
			go func() {
				n := 0
				for batch := range sub.Notes() {
					if n += len(batch); n >= b.N {
						break
					}
				}
				done <- n
			}()
			start := time.Now()
			b.ResetTimer()
			for i := 0; i < b.N; i += 100 {
				batch := make([]models.Notification, 0, 100)
				for j := i; j < min(i+100, b.N); j++ {
					batch = append(batch, note(j))
				}
				e.bus.Notify(b.Context(), batch...)
				for len(e.bus.queue) > cap(e.bus.queue)/2 {
					time.Sleep(time.Millisecond)
				}
			}
			if n := <-done; n < b.N {
				b.Fatalf("received %d of %d", n, b.N)
			}
			b.StopTimer()
			if d := e.bus.Dropped(); d > 0 {
				b.Fatalf("%d notes dropped", d)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "notes/s")
		})
	}
}
