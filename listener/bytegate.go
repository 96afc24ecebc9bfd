package listener

import "sync"

// byteGate is the ingest queue's byte budget, shared by every daemon.
// Bytes are taken when a connection reads a PUBLISH from its socket,
// before paho allocates the packet (see limitConn), and given back once
// the writer has stored the message (or the message is abandoned). So
// everything between the socket and the database, paho's own goroutines
// included, holds at most limit bytes: a flood slows the sockets instead
// of growing memory.
type byteGate struct {
	mu    sync.Mutex
	used  int64
	peak  int64 // the most ever taken at once
	limit int64
	wake  chan struct{} // closed (and replaced) on every release
}

func newByteGate(limit int) *byteGate {
	return &byteGate{limit: int64(limit), wake: make(chan struct{})}
}

// acquire takes n bytes, waiting while they do not fit; it gives up,
// returning false, when stop or closed is closed. A message larger than
// the whole budget goes through alone (when nothing else is held), so it
// cannot wait forever.
func (g *byteGate) acquire(n int, stop, closed <-chan struct{}) bool {
	for {
		g.mu.Lock()
		if g.used == 0 || g.used+int64(n) <= g.limit {
			g.used += int64(n)
			g.peak = max(g.peak, g.used)
			g.mu.Unlock()
			return true
		}
		wake := g.wake
		g.mu.Unlock()
		select {
		case <-wake:
		case <-stop:
			return false
		case <-closed:
			return false
		}
	}
}

// release gives n bytes back and wakes the waiters.
func (g *byteGate) release(n int) {
	if n == 0 {
		return
	}
	g.mu.Lock()
	g.used -= int64(n)
	close(g.wake)
	g.wake = make(chan struct{})
	g.mu.Unlock()
}

// size reports the bytes taken now.
func (g *byteGate) size() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.used
}

// highWater reports the most bytes ever taken at once.
func (g *byteGate) highWater() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak
}
