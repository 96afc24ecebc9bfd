// The view of iot.command: the Commands page under IoT, the requests
// sent to devices (iot.device.call) with their answers, the list reloading
// as their status changes.
import { registerView } from '../registry.js';
import { devices } from '../channels.js';

registerView({
  model: 'iot.command',
  actions: {
    'iot.command': { title: 'Commands', menu: [], refreshOn: { channel: devices.channel, type: devices.command } },
  },
  create: false, delete: true, edit: false,
  list: {
    columns: ['create_date', 'device_id', 'name', 'status', 'timeout', 'persistent', 'sent_at', 'answered_at', 'broker_id'],
    search: ['name', 'device_id', 'correlation_id'],
    filters: [
      { name: 'open', label: 'Open', domain: [['status', 'in', ['pending', 'sent']]], group: 'status' },
      { name: 'succeeded', label: 'Succeeded', domain: [['status', '=', 'succeeded']], group: 'status' },
      { name: 'failed', label: 'Failed or timed out', domain: [['status', 'in', ['failed', 'timed_out']]], group: 'status' },
      { name: 'persistent', label: 'Persistent', domain: [['persistent', '=', true]] },
    ],
    groupBy: ['status', 'device_id', 'name', 'broker_id', 'create_date:day'],
    widgets: { status: 'badge' },
  },
  form: {
    title: 'name',
    statusbar: 'status',
    groups: [
      { title: 'Command', fields: ['device_id', 'name', 'status', 'timeout', 'persistent', 'broker_id'] },
      { title: 'Correlation', fields: ['correlation_id', 'request_topic', 'create_date', 'sent_at', 'answered_at'] },
      { title: 'Request', wide: true, fields: ['params'] },
      { title: 'Answer', wide: true, fields: ['response', 'error'] },
    ],
    widgets: { status: 'badge' },
  },
});
