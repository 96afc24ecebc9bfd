// The view registry the app reads: one import per model's view file
// (each registers its declaration), in menu order. A new model's page is
// a new file here, registering with registerView, and its import below.
import { buildRegistry, registeredViews } from '../registry.js';
import './mqtt_broker.js';
import './mqtt_subscription.js';
import './mqtt_service.js';
import './mqtt_signal.js';
import './mqtt_signal_history.js';
import './iot_device.js';
import './iot_command.js';
import './mqtt_rule.js';
import './mqtt_rule_log.js';

export const { menu, actions, views, home, actionForModel } = buildRegistry(registeredViews());
