// The view of mqtt.broker: the Brokers page.
import { registerView } from '../registry.js';
import { realtime, listener } from '../channels.js';
import { relatedList } from '../panels/related_list.js';
import { liveList } from '../panels/live_list.js';
import { topicTree } from '../panels/topic_tree.js';
import { qosWidget, v5Only, v3Only } from './mqtt_fields.js';
import { publishDialog } from '../publish_dialog.js';
import { purgeBrokerButton } from './history_purge.js';

const notSuccess = (r) => r.connection_status !== 'success';
// status is the one status shown (mqtt.broker.status: the listener's live
// state, else the last Connect check); the two fields it derives from
// stay searchable for the filters and group-bys.
// The fields that decide where the broker's secrets go: the server clears
// the secrets when one changes and they are not typed again.
const target = ['url_scheme', 'host', 'port', 'tls_server_name', 'ca_cert', 'tls_insecure', 'ws_path'];
const secrets = ['password', 'client_key', 'ws_headers'];
const historyAction = (r) => (r.direction === 'send' ? 'send-history' : 'received-history');

registerView({
  model: 'mqtt.broker',
  actions: {
    // The list's status follows the listener live.
    'mqtt.broker': { title: 'Brokers', menu: ['MQTT Brokers', 'Configuration'], refreshOn: { channel: listener.channel, type: listener.state } },
  },
  create: true, delete: true, edit: true,
  deleteNote: 'Their message history and devices are deleted with them; their subscriptions and signals must be deleted first.',
  list: {
    columns: ['name', 'username', 'client_id', 'host', 'port', 'keepalive', 'status'],
    search: ['name', 'host', 'client_id', 'username'],
    filters: [
      { name: 'listening', label: 'Listening', domain: [['listener_state', '=', 'connected']], group: 'state' },
      { name: 'failing', label: 'Failing', domain: ['|', ['connection_status', '=', 'fail'], ['listener_state', '=', 'error']], group: 'state' },
    ],
    groupBy: ['connection_status', 'listener_state', 'host', 'url_scheme'],
    widgets: { status: 'badge' },
  },
  form: {
    title: 'name',
    // Subscriptions and signals keep a broker from being deleted (their
    // broker_id is ondelete restrict, as in the addon): Delete names and
    // counts them and deletes them first. Its history and devices go
    // with it on the server.
    deleteWith: [
      { model: 'mqtt.signal', field: 'broker_id', label: ['signal', 'signals'] },
      { model: 'mqtt.subscription', field: 'broker_id', label: ['subscription', 'subscriptions'] },
      { model: 'mqtt.signal.history', field: 'broker_id', label: ['message', 'messages'], cascade: true },
      { model: 'iot.device', field: 'broker_id', label: ['device', 'devices'], cascade: true },
    ],
    buttons: [
      { method: 'check_connection', label: 'Connect', primary: notSuccess, visible: (r) => Boolean(r.id) },
      // Publish anything on the broker (mqtt.broker.action_publish).
      { method: 'action_publish', label: 'Publish', visible: (r) => Boolean(r.id), client: publishDialog },
      purgeBrokerButton,
    ],
    groups: [
      { title: 'Broker', fields: ['name', 'url_scheme', 'host', 'port', 'clean_session', 'active'] },
      { title: 'Client', fields: ['client_id', 'shared_group', 'username', 'password', 'keepalive', 'protocol', 'session_expiry_interval', 'receive_maximum'] },
      { title: 'Status', fields: ['status', 'connection_message', 'last_connected', 'last_error', 'connect_timeout'] },
      {
        title: 'Devices',
        fields: ['device_discovery', 'device_discovery_filters', 'device_info_topic', 'device_telemetry_topic', 'device_event_topic',
          'device_action_topic', 'device_config_topic', 'device_availability_topic', 'device_request_topic', 'device_response_topic'],
      },
      { title: 'TLS', collapsed: true, fields: ['ca_cert', 'client_cert', 'client_key', 'tls_server_name', 'tls_insecure'] },
      { title: 'Last will', collapsed: true, fields: ['will_topic', 'will_payload', 'will_qos', 'will_retain'] },
      {
        title: 'Advanced', collapsed: true,
        fields: ['ping_timeout', 'write_timeout', 'ordered', 'store_type', 'store_dir', 'ws_path', 'ws_headers',
          'reconnect_initial', 'reconnect_factor', 'reconnect_max', 'reconnect_jitter', 'history_max_age_days', 'history_max_rows',
          'max_payload_size'],
      },
      { title: 'Notes', wide: true, fields: ['note'] },
    ],
    warnings: [{
      name: 'secrets-cleared',
      text: 'A new URL scheme, host, port, TLS server name, CA certificate, TLS verification or websocket path clears the stored password, client key and websocket headers: type the ones to keep again before saving.',
      when: (v, saved = {}) => Boolean(saved.id) && target.some((f) => (v[f] || false) !== (saved[f] || false))
        && secrets.some((f) => v[f] === undefined || v[f] === false),
    }],
    widgets: { will_qos: qosWidget, status: 'badge' },
    helpInline: ['device_discovery'],
    readonly: { ...v5Only(['session_expiry_interval', 'receive_maximum'], (r) => r.protocol), ...v3Only(['store_type', 'store_dir'], (r) => r.protocol) },
    invisible: {
      store_dir: (r) => r.store_type !== 'file',
      ws_path: (r) => !['ws://', 'wss://'].includes(r.url_scheme),
      ws_headers: (r) => !['ws://', 'wss://'].includes(r.url_scheme),
    },
    panels: [
      // The broker's subscriptions, with a link to add one.
      {
        panel: relatedList, title: 'Subscriptions', model: 'mqtt.subscription', field: 'broker_id',
        columns: ['topic', 'qos', 'subscribed', 'subscription_status'], widgets: { subscription_status: 'badge' },
        limit: 20, testid: 'broker-subscriptions', emptyText: 'No subscription yet.',
        action: 'mqtt.subscription', add: { testid: 'add-subscription', label: 'Add' },
      },
      // Its latest messages, new ones live; a listener state note of the
      // broker refreshes the form (it shows listener_state and last_error).
      {
        panel: liveList, title: 'Messages', model: 'mqtt.signal.history', field: 'broker_id',
        columns: ['timestamp', 'direction', 'topic', 'payload', 'qos', 'retain'], widgets: { direction: 'badge' },
        limit: 20, testid: 'broker-messages', emptyText: 'No message yet. New ones appear here live.',
        href: (r) => `#/${historyAction(r)}/${r.id}`,
        moreHref: (record) => `#/received-history?q=${encodeURIComponent(record.name || '')}`,
        live: { channel: realtime.channel, type: realtime.message },
        reloadOn: { channel: listener.channel, type: listener.state },
        liveDot: true,
      },
      // The tree of the topics it received (MQTT Explorer's view).
      {
        panel: topicTree, title: 'Topics', testid: 'topic-tree', method: 'get_topic_tree', history: 'received-history',
        live: { channel: realtime.channel, type: realtime.message },
        // A node's Publish opens the broker's Publish dialog on its topic.
        publish: (ctx) => publishDialog({ ...ctx, button: { method: 'action_publish' } }),
      },
    ],
  },
});
