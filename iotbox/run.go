package iotbox

import "context"

// EventSource is the bus as the box uses it. Placeholder until package bus
// lands: then it becomes Subscribe(channels, last) *bus.Subscription.
type EventSource interface{}

// Run feeds the ring from the bus until ctx ends, then releases the
// waiting polls.
func (b *Box) Run(ctx context.Context) error {
	defer b.stop()
	<-ctx.Done()
	return nil
}
