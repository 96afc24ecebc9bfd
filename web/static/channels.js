// The bus channels the server notifies on, and the notification types
// each carries: the one place the admin pages name them. The server's
// side is in models/mqtt, models/iotdevice and models/rules;
// TestChannelsMatchServer keeps the two in step. View declarations import them; the generic views
// and panels get them from the declarations.

/** realtime carries every stored message, received or sent. */
export const realtime = Object.freeze({ channel: 'mqtt_realtime', message: 'mqtt_message' });

/** listener carries the broker daemons' state changes. */
export const listener = Object.freeze({ channel: 'mqtt_listener', state: 'mqtt_listener_state' });

/**
 * devices carries device events (readings), updates (created,
 * online/offline) and commands' status changes.
 */
export const devices = Object.freeze({ channel: 'iot_device', event: 'iot_device_event', update: 'iot_device_update', command: 'iot_command' });

/** rules carries the automation rules' firings ({id, name, topic, value, fire_count}). */
export const rules = Object.freeze({ channel: 'mqtt_rule', fired: 'mqtt_rule_fired' });
