// The view of iot.device: the Devices page, with the device's values,
// actions, commands, events and Push config.
import { registerView } from '../registry.js';
import { devices } from '../channels.js';
import { deviceValues, deviceActions, deviceEvents, devicePushConfig } from '../panels/device.js';
import { deviceCommands } from '../panels/commands.js';
import { sensorCharts } from '../panels/sensor_charts.js';

registerView({
  model: 'iot.device',
  actions: {
    // The device list reloads when a device appears or goes on/offline.
    'iot.device': { title: 'Devices', menu: [], refreshOn: { channel: devices.channel, type: devices.update } },
  },
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
    panels: [
      { panel: deviceValues, live: { channel: devices.channel, event: devices.event, update: devices.update } },
      { panel: sensorCharts, method: 'get_sensor_series', live: { channel: devices.channel, event: devices.event } },
      { panel: deviceActions },
      {
        panel: deviceCommands, title: 'Commands', model: 'iot.command', field: 'device_id', method: 'call_async',
        live: { channel: devices.channel, type: devices.command }, href: (c) => `#/iot.command/${c.id}`,
      },
      { panel: deviceEvents },
      { panel: devicePushConfig, method: 'push_config' },
    ],
  },
});
