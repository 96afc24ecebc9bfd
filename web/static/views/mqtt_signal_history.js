// The view of mqtt.signal.history: the Send History and Received History
// pages, the received one tailing new messages live.
import { registerView } from '../registry.js';
import { realtime } from '../channels.js';
import { qosWidget } from './mqtt_fields.js';
import { payloadPanel, payloadCell } from '../payload_view.js';
import { historyListPurge } from './history_purge.js';
import { historyChart, topicGroupChart } from '../panels/history_chart.js';

// The MQTT 5 properties a message carried (none on 3.1/3.1.1): a row
// shows those it has, the group only when it has any.
const properties = ['content_type', 'response_topic', 'correlation_data', 'user_properties', 'message_expiry'];

// live: the notes of the realtime channel of the action's direction
// become rows; a row found by its topic and time opens the record.
const live = (direction) => ({
  channel: realtime.channel, type: realtime.message,
  match: (p) => p.direction === direction,
  key: ['topic', 'timestamp'],
});

registerView({
  model: 'mqtt.signal.history',
  actions: {
    'send-history': {
      title: 'Send History', menu: ['MQTT Brokers', 'Signal History'],
      domain: [['direction', '=', 'send']], live: live('send'),
    },
    'received-history': {
      title: 'Received History', menu: ['MQTT Brokers', 'Signal History'],
      domain: [['direction', '=', 'receive']], live: live('receive'),
    },
  },
  // A record opens in the action of its direction: links choose it.
  opens: null,
  create: false, delete: false, edit: false,
  list: {
    columns: ['timestamp', 'topic', 'payload', 'qos', 'retain', 'signal_id', 'broker_id'],
    search: ['topic', 'payload', 'broker_id'],
    filters: [
      { name: 'retained', label: 'Retained', domain: [['retain', '=', true]] },
      { name: 'with_signal', label: 'From a signal', domain: [['signal_id', '!=', false]] },
      { name: 'qos', label: 'QoS > 0', domain: [['qos', '>', 0]] },
    ],
    groupBy: ['topic', 'broker_id', 'signal_id', 'qos', 'timestamp:day'],
    // Grouped by topic, each group has a Chart of its numbers (or a JSON path's).
    groupPanels: { topic: topicGroupChart },
    widgets: { direction: 'badge', payload: payloadCell },
    // Managers (who may unlink history) get the checkboxes and Purge.
    bulkDelete: true,
    purge: historyListPurge,
  },
  form: {
    title: 'display_name',
    groups: [
      { title: 'Message', fields: ['timestamp', 'direction', 'topic', 'qos', 'retain'] },
      { title: 'Origin', fields: ['broker_id', 'subscription_id', 'signal_id'] },
      { title: 'MQTT 5 properties', fields: properties },
    ],
    widgets: { qos: qosWidget, correlation_data: 'bytes', user_properties: 'pairs' },
    invisible: Object.fromEntries(properties.map((f) => [f, (r) => !r[f]])),
    // The payload (pretty JSON, a hex dump of bytes, a diff with the
    // message before), then the message's topic charted: numbers, or a
    // JSON path's.
    panels: [{ panel: payloadPanel }, { panel: historyChart, method: 'get_series' }],
  },
});
