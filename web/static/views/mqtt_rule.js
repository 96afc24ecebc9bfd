// The view of mqtt.rule: the Rules page under Automation. The form shows
// only what the chosen trigger and action use, a Test panel (action_test:
// what the rule would do with a topic and payload, without doing it), the
// firings counted live from the bus, and the rule's recent log.
import { registerView } from '../registry.js';
import { rules } from '../channels.js';
import { relatedList } from '../panels/related_list.js';
import { liveCounter } from '../panels/live_counter.js';
import { tryMethod } from '../panels/try_method.js';
import { qosWidget } from './mqtt_fields.js';

const m2oId = (v) => (Array.isArray(v) ? v[0] : v);

// actionFields are the fields each action uses; the form hides the
// others of actionFieldNames.
export const actionFields = {
  publish: ['action_topic', 'action_payload', 'action_qos', 'action_retain'],
  send_signal: ['signal_id'],
  device_action: ['device_id', 'device_action', 'params'],
  device_command: ['device_id', 'device_action', 'params'],
  notify: ['action_payload'],
};
const actionFieldNames = [...new Set(Object.values(actionFields).flat())];

// The condition applies to messages; value is what >, =, contains, regex
// compare with (any and changed have none), hysteresis re-arms the
// threshold operators.
const condition = ['json_path', 'operator', 'value', 'hysteresis'];
const thresholds = ['>', '>=', '<', '<='];
const onMessage = (r) => (r.trigger || 'message') === 'message';

/** invisible is the form's rules: field -> hidden for these values. */
export const invisible = {
  interval: (r) => r.trigger !== 'interval',
  json_path: (r) => !onMessage(r),
  operator: (r) => !onMessage(r),
  value: (r) => !onMessage(r) || ['any', 'changed'].includes(r.operator || 'any'),
  hysteresis: (r) => !onMessage(r) || !thresholds.includes(r.operator),
  ...Object.fromEntries(actionFieldNames.map((f) => [f, (r) => !(actionFields[r.action] || []).includes(f)])),
};

// A trigger topic for the Test panel from the rule's filter: its
// wildcards as sample levels.
const sampleTopic = (r) => (typeof r.topic_filter === 'string' ? r.topic_filter.replace(/(^|\/)\+(?=\/|$)/g, '$1x').replace(/(^|\/)#$/, '$1x') : '');

// What action_test returns, in reading order.
export const testRows = [
  ['matched', 'Topic matches', 'bool'], ['value', 'Condition value'], ['condition', 'Condition holds', 'bool'],
  ['would_fire', 'Would fire', 'bool'], ['reason', 'Why not'],
  ['action', 'Action'], ['topic', 'Topic'], ['payload', 'Payload'], ['qos', 'QoS'], ['retain', 'Retain', 'bool'],
  ['device_id', 'Device id'], ['device_action', 'Device action'], ['params', 'Params'], ['signal_id', 'Signal id'],
  ['delay', 'Delay (s)'], ['error', 'Error'],
];

registerView({
  model: 'mqtt.rule',
  actions: {
    // The list reloads as rules fire (fire_count, last_fired, last_error).
    'mqtt.rule': { title: 'Rules', menu: ['Automation'], refreshOn: { channel: rules.channel, type: rules.fired } },
  },
  create: true, delete: true, edit: true,
  list: {
    columns: ['name', 'broker_id', 'trigger', 'topic_filter', 'json_path', 'operator', 'value', 'action', 'fire_count', 'last_fired', 'last_error', 'active'],
    search: ['name', 'topic_filter', 'action_topic'],
    filters: [
      { name: 'failing', label: 'Failing', domain: [['last_error', '!=', false]] },
      { name: 'never_fired', label: 'Never fired', domain: [['fire_count', '=', 0]] },
      { name: 'archived', label: 'Archived', domain: [['active', '=', false]] },
    ],
    groupBy: ['trigger', 'action', 'broker_id', 'operator'],
    widgets: { trigger: 'badge', action: 'badge' },
  },
  form: {
    title: 'name',
    groups: [
      { title: 'Rule', fields: ['name', 'active'] },
      { title: 'Trigger', fields: ['trigger', 'broker_id', 'topic_filter', 'interval'] },
      { title: 'Condition', fields: condition },
      { title: 'Action', fields: ['action', 'action_topic', 'action_qos', 'action_retain', 'signal_id', 'device_id', 'device_action', 'params', 'action_payload'] },
      { title: 'Timing', fields: ['delay', 'cooldown'] },
      { title: 'Status', fields: ['topic_listened', 'fire_count', 'last_fired', 'last_error'] },
    ],
    warnings: [{
      name: 'topic-not-listened',
      text: 'No listened subscription of the broker (nor its device topics) covers this topic filter: the rule sees only the messages the broker\'s subscriptions receive. Add and subscribe a subscription that covers it.',
      when: (v, saved = {}) => Boolean(saved.id) && saved.topic_listened === false,
    }],
    widgets: { action_qos: qosWidget },
    invisible,
    // Signals and devices of the rule's broker, when it names one.
    domains: {
      signal_id: (r) => (r.broker_id ? [['broker_id', '=', m2oId(r.broker_id)]] : []),
      device_id: (r) => (r.broker_id ? [['broker_id', '=', m2oId(r.broker_id)]] : []),
    },
    dependents: { broker_id: ['signal_id', 'device_id'] },
    panels: [
      {
        panel: tryMethod, title: 'Test', method: 'action_test', button: 'Test', testid: 'rule-test',
        hint: 'What the saved rule would do with this message, without doing it.',
        inputs: [
          { name: 'topic', label: 'Topic', placeholder: 'device/thermo-1/telemetry/temperature', initial: sampleTopic },
          { name: 'payload', label: 'Payload', placeholder: '{"value": 29.5}', rows: 3 },
        ],
        rows: testRows, danger: ['error'],
      },
      {
        // The notes name the rule by rule_id (models/rules/evaluate.go).
        panel: liveCounter, title: 'Firings', count: 'fire_count', key: 'rule_id', label: 'times fired', testid: 'rule-fired',
        live: { channel: rules.channel, type: rules.fired },
        details: [['topic', 'Topic'], ['value', 'Value']],
      },
      {
        panel: relatedList, title: 'Recent log', model: 'mqtt.rule.log', field: 'rule_id',
        columns: ['time', 'trigger_topic', 'trigger_payload', 'action', 'result', 'error'],
        limit: 20, order: 'id desc', testid: 'rule-log', emptyText: 'Not fired yet.', action: 'mqtt.rule.log',
      },
    ],
  },
});
