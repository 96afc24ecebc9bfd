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
      { name: 'failed', label: 'Failed', domain: [['result', '=', 'failed']], group: 'outcome' },
      { name: 'done', label: 'Done', domain: [['result', '=', 'done']], group: 'outcome' },
    ],
    groupBy: ['rule_id', 'result', 'trigger_topic', 'time:day'],
    widgets: { result: 'badge' },
  },
  form: {
    title: 'display_name',
    statusbar: 'result',
    groups: [
      { title: 'Firing', fields: ['rule_id', 'time', 'result'] },
      { title: 'Trigger', fields: ['trigger_topic', 'trigger_payload'] },
      { title: 'Action', wide: true, fields: ['action', 'error'] },
    ],
    widgets: { result: 'badge' },
  },
});
