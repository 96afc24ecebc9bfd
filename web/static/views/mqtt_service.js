// The view of mqtt.service: the Service page (the model's one record)
// with the listener registry.
import { registerView } from '../registry.js';
import { listener } from '../channels.js';
import { listenerRegistry } from '../panels/listeners.js';
import { instancesPanel } from '../panels/instances.js';

registerView({
  model: 'mqtt.service',
  actions: {
    // singleton: the action opens the model's first record.
    service: { title: 'Service', menu: ['MQTT Brokers', 'Configuration'], singleton: true },
  },
  opens: 'service',
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
    panels: [
      // One row per broker daemon; check_mqtt_status writes the record's
      // connection_status when their states change.
      {
        panel: listenerRegistry, method: 'get_listener_status', checkMethod: 'check_mqtt_status',
        brokerAction: 'mqtt.broker', refreshOn: { channel: listener.channel, type: listener.state },
      },
      // The server instances: in a cluster each broker's owner is one.
      { panel: instancesPanel, method: 'get_instances' },
    ],
  },
});
