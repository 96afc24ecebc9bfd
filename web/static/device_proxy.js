// DeviceProxy as an ES module: import { DeviceProxy } from
// '/web/static/device_proxy.js'. The implementation lives in
// device_proxy_global.js so that non-module pages can load it with a plain
// <script src> and use window.DeviceProxy; importing it here sets that
// global as well.
import './device_proxy_global.js';

export const DeviceProxy = globalThis.DeviceProxy;
export default DeviceProxy;
