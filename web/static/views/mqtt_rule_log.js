// The view of mqtt.rule.log: the Rule log page under Automation, what the
// rules did (or failed to do), read-only; it reloads as rules fire.
import { registerView } from '../registry.js';
import { rules } from '../channels.js';

registerView({
  model: 'mqtt.rule.log',
  actions: {
    'mqtt.rule.log': { title: 'Rule log', menu: ['Automation'], refreshOn: { channel: rules.channel, type: rules.fired } },
  },
  create: false, delete: false, edit: false,
  list: {
    columns: ['time', 'rule_id', 'trigger_topic', 'trigger_payload', 'action', 'result', 'error'],
    search: ['rule_id', 'trigger_topic', 'trigger_payload', 'error'],
    filters: [
      { name: 'errors', label: 'Errors', domain: [['error', '!=', false]], group: 'outcome' },
      { name: 'ok', label: 'Succeeded', domain: [['error', '=', false]], group: 'outcome' },
    ],
    groupBy: ['rule_id', 'action', 'time:day'],
    widgets: { action: 'badge' },
  },
  form: {
    title: 'display_name',
    groups: [
      { title: 'Firing', fields: ['rule_id', 'time', 'action'] },
      { title: 'Trigger', fields: ['trigger_topic', 'trigger_payload'] },
      { title: 'Outcome', wide: true, fields: ['result', 'error'] },
    ],
  },
});
