// The view of mqtt.subscription: the Subscriptions page.
import { registerView } from '../registry.js';
import { qosWidget, retainHandlingWidget, v5Only } from './mqtt_fields.js';

registerView({
  model: 'mqtt.subscription',
  actions: {
    'mqtt.subscription': { title: 'Subscriptions', menu: ['MQTT Brokers', 'Configuration'] },
  },
  create: true, delete: true, edit: true,
  // What a Delete of the list says: history.subscription_id is set null.
  deleteNote: 'Their messages stay in the history, no longer linked to a subscription; signals using them must be deleted first.',
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
    // Signals restrict the delete (subscription_id is ondelete restrict):
    // they go first; its history stays with subscription_id cleared.
    deleteWith: [
      { model: 'mqtt.signal', field: 'subscription_id', label: ['signal', 'signals'] },
      { model: 'mqtt.signal.history', field: 'subscription_id', label: ['message', 'messages'], kept: true },
    ],
    buttons: [
      { method: 'subscribe_mqtt', label: 'Subscribe', primary: () => true, visible: (r) => Boolean(r.id) && !r.subscribed },
      { method: 'unsubscribe', label: 'Unsubscribe', visible: (r) => Boolean(r.id) && (r.subscribed || r.enabled),
        confirm: 'Stop listening to this topic?' },
    ],
    groups: [
      { title: 'Subscription', fields: ['display_name', 'broker_id', 'broker_protocol', 'topic', 'qos'] },
      { title: 'MQTT 5 options', fields: ['no_local_flag', 'retain_as_published_flag', 'retain_handling'] },
      { title: 'State', fields: ['subscribed', 'enabled', 'subscription_time', 'last_error'] },
    ],
    widgets: { qos: qosWidget, retain_handling: retainHandlingWidget },
    // Sent on MQTT 5 only: broker_protocol follows the broker chosen.
    readonly: v5Only(['no_local_flag', 'retain_as_published_flag', 'retain_handling'], (r) => r.broker_protocol),
  },
});
