// The view of mqtt.signal: the Signals page, with the signal's history
// (live) and Auto send.
import { registerView } from '../registry.js';
import { realtime } from '../channels.js';
import { liveList } from '../panels/live_list.js';
import { autoSend } from '../panels/auto_send.js';
import { qosWidget, v5Only } from './mqtt_fields.js';

const m2oId = (v) => (Array.isArray(v) ? v[0] : v);
const historyAction = (r) => (r.direction === 'send' ? 'send-history' : 'received-history');

registerView({
  model: 'mqtt.signal',
  actions: {
    'mqtt.signal': { title: 'Signals', menu: ['MQTT Brokers'] },
  },
  create: true, delete: true, edit: true,
  // history.signal_id is set null when a signal is deleted.
  deleteNote: 'Their sent messages stay in the history, no longer linked to a signal.',
  list: {
    columns: ['topic', 'broker_id', 'payload', 'qos', 'retain', 'send_at'],
    search: ['display_name', 'payload', 'topic'],
    filters: [
      { name: 'retained', label: 'Retained', domain: [['retain', '=', true]] },
      { name: 'never_sent', label: 'Never sent', domain: [['send_at', '=', false]] },
    ],
    groupBy: ['broker_id', 'subscription_id', 'qos', 'retain'],
  },
  form: {
    title: 'display_name',
    deleteWith: [
      { model: 'mqtt.signal.history', field: 'signal_id', label: ['message', 'messages'], kept: true },
    ],
    buttons: [
      { method: 'action_send_mqtt', label: 'Send', primary: () => true, visible: (r) => Boolean(r.id) },
      // The addon's client action: action_send_mqtt every second until Stop.
      { method: 'action_auto_send_mqtt', label: 'Auto send', visible: (r) => Boolean(r.id), client: autoSend, sends: 'action_send_mqtt' },
    ],
    groups: [
      { title: 'Signal', fields: ['display_name', 'broker_id', 'broker_protocol', 'subscription_id', 'topic'] },
      { title: 'Message', fields: ['qos', 'retain', 'send_at'] },
      { title: 'MQTT 5 properties', fields: ['content_type', 'user_properties', 'message_expiry'] },
      { title: 'Payload', wide: true, fields: ['payload_encoding', 'payload'] },
    ],
    widgets: { qos: qosWidget },
    // Sent on MQTT 5 only: broker_protocol follows the broker chosen.
    readonly: v5Only(['content_type', 'user_properties', 'message_expiry'], (r) => r.broker_protocol),
    // The addon's form limits subscriptions to the chosen broker's.
    domains: { subscription_id: (r) => (r.broker_id ? [['broker_id', '=', m2oId(r.broker_id)]] : []) },
    dependents: { broker_id: ['subscription_id'] },
    panels: [
      // The signal's send/receive history, newest first, new ones live.
      {
        panel: liveList, title: 'Send/receive history', model: 'mqtt.signal.history', field: 'signal_id',
        columns: ['timestamp', 'direction', 'payload', 'qos', 'retain'], widgets: { direction: 'badge' },
        limit: 10, testid: 'signal-history', emptyText: 'Not sent yet.',
        href: (r) => `#/${historyAction(r)}/${r.id}`,
        live: { channel: realtime.channel, type: realtime.message },
      },
    ],
  },
});
