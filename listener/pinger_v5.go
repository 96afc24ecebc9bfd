package listener

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho/log"
)

// pinger keeps an MQTT 5 connection alive as paho.golang's DefaultPinger
// does (a PINGREQ when nothing was both sent and received for a keepalive
// interval), but waits for the PINGRESP only the broker record's ping
// timeout, as paho.mqtt.golang does on 3.1.1: DefaultPinger waits a whole
// keepalive interval, so the record's ping_timeout would mean nothing on
// MQTT 5.
type pinger struct {
	timeout time.Duration

	mu                 sync.Mutex
	lastSent, lastRecv time.Time
	lastPingResp       time.Time
}

func newPinger(timeout time.Duration) *pinger { return &pinger{timeout: timeout} }

// Run returns nil when ctx ends, an error once a PINGRESP is overdue or a
// PINGREQ cannot be written (paho then closes the connection).
func (p *pinger) Run(ctx context.Context, conn net.Conn, keepAlive uint16) error {
	if keepAlive == 0 {
		return nil
	}
	interval := time.Duration(keepAlive) * time.Second
	timer := time.NewTimer(interval)
	defer timer.Stop()
	var pingSent time.Time // of the PINGREQ awaiting its PINGRESP; zero: none
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-timer.C:
			p.mu.Lock()
			// MQTT-3.1.2-20 asks for a ping only when nothing was sent; a
			// half-open link needs it when nothing was received either.
			quiet := p.lastSent
			if p.lastRecv.Before(quiet) {
				quiet = p.lastRecv
			}
			answered := p.lastPingResp
			p.mu.Unlock()
			if !pingSent.IsZero() {
				if answered.Before(pingSent) {
					return fmt.Errorf("no PINGRESP within %s", p.timeout)
				}
				pingSent = time.Time{}
			}
			if due := quiet.Add(interval); now.Before(due) {
				timer.Reset(due.Sub(now))
				continue
			}
			// Stamped before the write: the PINGRESP may be read before
			// WriteTo returns. A concurrent write is safe: paho's
			// connection is a packets.ThreadSafeConn.
			pingSent = time.Now()
			p.PacketSent()
			if _, err := packets.NewControlPacket(packets.PINGREQ).WriteTo(conn); err != nil {
				return fmt.Errorf("cannot send PINGREQ: %w", err)
			}
			timer.Reset(min(p.timeout, interval))
		}
	}
}

func (p *pinger) PacketSent() {
	p.mu.Lock()
	p.lastSent = time.Now()
	p.mu.Unlock()
}

func (p *pinger) PacketReceived() {
	p.mu.Lock()
	p.lastRecv = time.Now()
	p.mu.Unlock()
}

func (p *pinger) PingResp() {
	p.mu.Lock()
	p.lastPingResp = time.Now()
	p.mu.Unlock()
}

func (p *pinger) SetDebug(log.Logger) {}
