package models

import "context"

// Notifications are how models tell browsers and IoT-box listeners what
// just happened, after the transaction that made it true committed. The
// bus (package bus: in-process fan-out, LISTEN/NOTIFY between instances)
// implements Notifier and is given to New. Each addon names the channels
// its models' data travels on (Model.Channels) and the notification
// types it sends.

// Notification is one message for the bus. Payload must marshal to JSON
// (plain values, maps, slices, *Dict).
type Notification struct {
	Channel string
	Type    string
	Payload any
}

// Notifier delivers notifications. Notify must not block on the network
// or the database for long: implementations queue. Delivery is best
// effort, as in Odoo's bus; the database stays the record.
type Notifier interface {
	Notify(ctx context.Context, notes ...Notification)
}

// Notify hands notes to the bus, if there is one.
func (r *Registry) Notify(ctx context.Context, notes ...Notification) {
	if r.notifier != nil && len(notes) > 0 {
		r.notifier.Notify(ctx, notes...)
	}
}

// NotifyAfterCommit queues notes to go out once env's transaction
// committed, so nobody hears of a change that was rolled back.
func (e *Env) NotifyAfterCommit(notes ...Notification) {
	reg, ctx := e.reg, e.Ctx
	e.AfterCommit(func() { reg.Notify(ctx, notes...) })
}

// AfterCommit runs fn once the env's transaction has committed (at once
// outside a transaction). It is how record changes reach daemons and
// caches only when they are final.
func (e *Env) AfterCommit(fn func()) {
	if e.afterCommit == nil {
		fn()
		return
	}
	*e.afterCommit = append(*e.afterCommit, fn)
}

// CanSubscribe reports whether user uid may listen on channel: a channel
// needs read access to the model whose data it carries.
func (r *Registry) CanSubscribe(ctx context.Context, uid int64, channel string) bool {
	m := r.channels[channel]
	if m == nil {
		return false
	}
	allowed := false
	_ = r.Read(ctx, uid, nil, func(env *Env) error {
		allowed = env.allowed(m, OpRead)
		return nil
	})
	return allowed
}
