// The view declarations: per model, what the generic list and form views
// show (columns, search fields, filters, group-bys, buttons, field groups,
// readonly/invisible rules), in the spirit of Odoo's XML views (seed-addon
// §5). Field names fields_get does not know are skipped, so a model
// missing a field still renders.
import { brokerMessages, brokerSubscriptions } from './panels/broker.js';
import { signalHistory, autoSend } from './panels/signal.js';
import { listenerRegistry } from './panels/service.js';
import { deviceValues, deviceActions, deviceEvents, devicePushConfig } from './panels/device.js';

/**
 * menu is the header's menu tree (seed-addon §5, plus Devices). Leaves
 * name an action of `actions`.
 */
export const menu = [
  {
    label: 'MQTT Brokers',
    children: [
      {
        label: 'Configuration',
        children: [
          { label: 'Brokers', action: 'mqtt.broker' },
          { label: 'Subscriptions', action: 'mqtt.subscription' },
          { label: 'Service', action: 'service' },
        ],
      },
      { label: 'Signals', action: 'mqtt.signal' },
      {
        label: 'Signal History',
        children: [
          { label: 'Send History', action: 'send-history' },
          { label: 'Received History', action: 'received-history' },
        ],
      },
    ],
  },
  { label: 'Devices', action: 'iot.device' },
];

/**
 * actions are what a route opens (#/<action>[/<id>|/new]): a model, its
 * view declaration, a fixed domain and defaults for new records.
 * singleton: the action opens the model's first record (mqtt.service).
 */
export const actions = {
  'mqtt.broker': { model: 'mqtt.broker', title: 'Brokers', view: 'mqtt.broker' },
  'mqtt.subscription': { model: 'mqtt.subscription', title: 'Subscriptions', view: 'mqtt.subscription' },
  'mqtt.signal': { model: 'mqtt.signal', title: 'Signals', view: 'mqtt.signal' },
  'send-history': {
    model: 'mqtt.signal.history', title: 'Send History', view: 'mqtt.signal.history',
    domain: [['direction', '=', 'send']], live: 'send',
  },
  'received-history': {
    model: 'mqtt.signal.history', title: 'Received History', view: 'mqtt.signal.history',
    domain: [['direction', '=', 'receive']], live: 'receive',
  },
  service: { model: 'mqtt.service', title: 'Service', view: 'mqtt.service', singleton: true },
  // The device list reloads when a device appears or goes on/offline.
  'iot.device': { model: 'iot.device', title: 'Devices', view: 'iot.device', refreshOn: { channel: 'iot_device', type: 'iot_device_update' } },
};

/** actionForModel is the action a many2one link of that model opens. */
export function actionForModel(model) {
  if (actions[model]) return model;
  if (model === 'mqtt.service') return 'service';
  return null;
}

const notSuccess = (r) => r.connection_status !== 'success';

/**
 * views: list {columns, search, filters, groupBy, widgets} and form
 * {statusbar, buttons, groups, readonly, invisible, domains, panels,
 * o2m}; create/delete/edit say what the UI offers (access rights still
 * apply on the server).
 *
 * A button is {method, label, visible(record), primary(record), confirm,
 * model: true for @api.model methods, client(ctx): a client-side action
 * instead of a server call}.
 */
export const views = {
  'mqtt.broker': {
    create: true, delete: true, edit: true,
    list: {
      columns: ['name', 'username', 'client_id', 'host', 'port', 'keepalive', 'connection_status', 'listener_state'],
      search: ['name', 'host', 'client_id', 'username'],
      filters: [
        { name: 'listening', label: 'Listening', domain: [['listener_state', '=', 'connected']], group: 'state' },
        { name: 'failing', label: 'Failing', domain: ['|', ['connection_status', '=', 'fail'], ['listener_state', '=', 'error']], group: 'state' },
      ],
      groupBy: ['connection_status', 'listener_state', 'host', 'url_scheme'],
      widgets: { connection_status: 'badge', listener_state: 'badge' },
    },
    form: {
      title: 'name',
      statusbar: 'connection_status',
      buttons: [
        { method: 'check_connection', label: 'Connect', primary: notSuccess, visible: (r) => Boolean(r.id) },
      ],
      groups: [
        { title: 'Broker', fields: ['name', 'url_scheme', 'host', 'port', 'clean_session', 'active'] },
        { title: 'Client', fields: ['client_id', 'username', 'password', 'keepalive', 'protocol'] },
        { title: 'Status', fields: ['connect_timeout', 'connection_status', 'connection_message', 'listener_state', 'last_connected', 'last_error'] },
        {
          title: 'Devices',
          fields: ['device_discovery', 'device_info_topic', 'device_telemetry_topic', 'device_event_topic',
            'device_action_topic', 'device_config_topic', 'device_availability_topic'],
        },
        { title: 'TLS', collapsed: true, fields: ['ca_cert', 'client_cert', 'client_key', 'tls_server_name', 'tls_insecure'] },
        { title: 'Last will', collapsed: true, fields: ['will_topic', 'will_payload', 'will_qos', 'will_retain'] },
        {
          title: 'Advanced', collapsed: true,
          fields: ['ping_timeout', 'write_timeout', 'ordered', 'store_type', 'store_dir', 'ws_path', 'ws_headers',
            'reconnect_initial', 'reconnect_factor', 'reconnect_max', 'reconnect_jitter', 'history_max_age_days', 'history_max_rows'],
        },
        { title: 'Notes', wide: true, fields: ['note'] },
      ],
      invisible: {
        store_dir: (r) => r.store_type !== 'file',
        ws_path: (r) => !['ws://', 'wss://'].includes(r.url_scheme),
        ws_headers: (r) => !['ws://', 'wss://'].includes(r.url_scheme),
      },
      panels: [brokerSubscriptions, brokerMessages],
    },
  },

  'mqtt.subscription': {
    create: true, delete: false, edit: true,
    list: {
      columns: ['broker_id', 'topic', 'qos', 'subscribed', 'subscription_time', 'subscription_status'],
      search: ['topic', 'broker_id'],
      filters: [
        { name: 'subscribed', label: 'Subscribed', domain: [['subscribed', '=', true]], group: 'sub' },
        { name: 'not_subscribed', label: 'Not subscribed', domain: [['subscribed', '=', false]], group: 'sub' },
        { name: 'failing', label: 'Failing', domain: [['last_error', '!=', false]] },
      ],
      groupBy: ['broker_id', 'subscribed', 'qos'],
      widgets: { subscription_status: 'badge' },
    },
    form: {
      title: 'display_name',
      statusbar: 'subscription_status',
      buttons: [
        { method: 'subscribe_mqtt', label: 'Subscribe', primary: () => true, visible: (r) => Boolean(r.id) && !r.subscribed },
        { method: 'unsubscribe', label: 'Unsubscribe', visible: (r) => Boolean(r.id) && (r.subscribed || r.enabled),
          confirm: 'Stop listening to this topic?' },
      ],
      groups: [
        { title: 'Subscription', fields: ['display_name', 'broker_id', 'topic', 'qos'] },
        { title: 'MQTT 5 options', fields: ['no_local_flag', 'retain_as_published_flag', 'retain_handling'] },
        { title: 'State', fields: ['subscribed', 'enabled', 'subscription_time', 'last_error'] },
      ],
    },
  },

  'mqtt.signal': {
    create: true, delete: false, edit: true,
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
      buttons: [
        { method: 'action_send_mqtt', label: 'Send', primary: () => true, visible: (r) => Boolean(r.id) },
        { method: 'action_auto_send_mqtt', label: 'Auto send', visible: (r) => Boolean(r.id), client: autoSend },
      ],
      groups: [
        { title: 'Signal', fields: ['display_name', 'broker_id', 'subscription_id', 'topic'] },
        { title: 'Message', fields: ['qos', 'retain', 'send_at'] },
        { title: 'Payload', wide: true, fields: ['payload'] },
      ],
      // The addon's form limits subscriptions to the chosen broker's.
      domains: { subscription_id: (r) => (r.broker_id ? [['broker_id', '=', Array.isArray(r.broker_id) ? r.broker_id[0] : r.broker_id]] : []) },
      dependents: { broker_id: ['subscription_id'] },
      panels: [signalHistory],
    },
  },

  'mqtt.signal.history': {
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
      widgets: { direction: 'badge' },
    },
    form: {
      title: 'display_name',
      groups: [
        { title: 'Message', fields: ['timestamp', 'direction', 'topic', 'qos', 'retain'] },
        { title: 'Origin', fields: ['broker_id', 'subscription_id', 'signal_id'] },
        { title: 'Payload', wide: true, fields: ['payload'] },
      ],
    },
  },

  'mqtt.service': {
    create: false, delete: false, edit: false,
    list: { columns: ['name', 'last_start', 'status', 'connection_status'], widgets: { status: 'badge', connection_status: 'badge' } },
    form: {
      title: 'name',
      statusbar: 'status',
      buttons: [
        { method: 'start_mqtt_service', label: 'Start service', model: true, primary: () => true, visible: (r) => r.status !== 'start' },
        { method: 'stop_mqtt_service', label: 'Stop service', model: true, visible: (r) => r.status === 'start',
          confirm: 'Stop listening to every broker?' },
        { method: 'restart_mqtt_service', label: 'Restart', model: true, visible: (r) => r.status === 'start' },
      ],
      groups: [
        { title: 'Service', fields: ['name', 'status', 'connection_status'] },
        { title: 'Process', fields: ['last_start', 'thread_identifier', 'host_info'] },
      ],
      panels: [listenerRegistry],
    },
  },

  'iot.device': {
    create: true, delete: true, edit: true,
    list: {
      columns: ['name', 'identifier', 'type', 'manufacturer', 'broker_id', 'connected', 'last_seen'],
      search: ['name', 'identifier', 'manufacturer', 'type'],
      filters: [
        { name: 'online', label: 'Online', domain: [['connected', '=', true]], group: 'conn' },
        { name: 'offline', label: 'Offline', domain: [['connected', '=', false]], group: 'conn' },
      ],
      groupBy: ['type', 'manufacturer', 'broker_id', 'connected', 'connection'],
      widgets: { connected: 'online' },
    },
    form: {
      title: 'name',
      groups: [
        { title: 'Device', fields: ['name', 'identifier', 'type', 'manufacturer', 'device_model', 'software_version', 'driver', 'active'] },
        { title: 'Connection', fields: ['broker_id', 'connection', 'connected', 'last_seen', 'topic_base'] },
      ],
      widgets: { connected: 'online' },
      readonly: { identifier: (r) => Boolean(r.id) },
      panels: [deviceValues, deviceActions, deviceEvents, devicePushConfig],
    },
  },
};
