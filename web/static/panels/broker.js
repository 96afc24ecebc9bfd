// Panels under a broker's form: its subscriptions, and a live "Messages"
// tail of the mqtt_realtime notes of this broker.
import { h } from '../dom.js';
import { bus } from '../bus.js';
import { smallList } from '../small_list.js';

/** brokerSubscriptions lists the broker's subscriptions with a link to add one. */
export function brokerSubscriptions({ id }) {
  const list = smallList({
    title: 'Subscriptions', model: 'mqtt.subscription', domain: [['broker_id', '=', id]],
    columns: ['topic', 'qos', 'subscribed', 'subscription_status'], widgets: { subscription_status: 'badge' },
    limit: 20, testid: 'broker-subscriptions', emptyText: 'No subscription yet.',
    href: (r) => `#/mqtt.subscription/${r.id}`,
  });
  list.el.querySelector('.panel-header').append(
    h('a', { class: 'btn btn-sm', href: `#/mqtt.subscription/new?default_broker_id=${id}`, 'data-testid': 'add-subscription', text: 'Add' }));
  return { el: list.el, update: () => list.reload() };
}

/** liveHistoryRecord shapes an mqtt_realtime payload like a history row. */
export function liveHistoryRecord(p) {
  const m2o = (v) => (v ? [v, `#${v}`] : false);
  return {
    timestamp: p.timestamp, topic: p.topic, payload: p.payload, direction: p.direction,
    qos: p.qos, retain: p.retain, display_name: p.display_name,
    broker_id: m2o(p.broker_id), subscription_id: m2o(p.subscription_id), signal_id: m2o(p.signal_id),
  };
}

/**
 * brokerMessages shows the broker's latest messages and prepends new ones
 * as they arrive on the bus; a listener state note refreshes the form.
 */
export function brokerMessages({ id, record, form }) {
  const list = smallList({
    title: 'Messages', model: 'mqtt.signal.history', domain: [['broker_id', '=', id]],
    columns: ['timestamp', 'direction', 'topic', 'payload', 'qos', 'retain'], widgets: { direction: 'badge' },
    limit: 20, live: true, testid: 'broker-messages', emptyText: 'No message yet. New ones appear here live.',
    href: (r) => `#/${r.direction === 'send' ? 'send-history' : 'received-history'}/${r.id}`,
    moreHref: `#/received-history?q=${encodeURIComponent(record.name || '')}`,
  });
  list.el.classList.add('live-panel');
  list.el.querySelector('.panel-header h3').append(h('span', { class: 'live-dot', title: 'Live', 'aria-label': 'live' }));
  bus.addChannel('mqtt_realtime', 'mqtt_listener');
  const offs = [
    bus.on('mqtt_message', (p) => {
      if (p && p.broker_id === id) list.prepend(liveHistoryRecord(p));
    }),
    bus.on('mqtt_listener_state', (p) => {
      // The form shows listener_state and last_error: refresh it, unless
      // the user is editing.
      if (p && p.broker_id === id && !form.isDirty()) form.reload();
    }),
  ];
  return { el: list.el, destroy: () => offs.forEach((off) => off()) };
}
