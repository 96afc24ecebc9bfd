// DeviceProxy for pages that are not ES modules: load this file with a
// plain <script src="/web/static/device_proxy_global.js"> and use
// window.DeviceProxy. ES modules import device_proxy.js instead, which
// loads this file and exports the same class.
//
// The API is Odoo's IoT DeviceProxy (iot_longpolling), so widgets written
// for an IoT box work against this server:
//   const p = new DeviceProxy({iot_ip: '', identifier: 'dev-1'});
//   p.add_listener((result) => ...);   // long-polls /hw_drivers/event
//   await p.action({action: 'on'});    // POST /hw_drivers/action -> true/false
//   p.remove_listener();
(function () {
  'use strict';
  if (globalThis.DeviceProxy) return; // loaded twice (module and classic)

  var POLL_TIMEOUT = 60000; // the client's own timeout; the server answers within 50 s
  var ACTION_TIMEOUT = 15000;
  var MIN_RETRY = 1000;
  var MAX_RETRY = 30000;

  // uuid4 works outside secure contexts too (crypto.randomUUID needs one).
  function uuid4() {
    if (globalThis.crypto && crypto.randomUUID) {
      try { return crypto.randomUUID(); } catch (e) { /* insecure context */ }
    }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
    return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' + hex.slice(16, 20) + '-' + hex.slice(20);
  }

  // One session id per page, as Odoo's iot_longpolling has.
  var SESSION_ID = uuid4();
  var nextListener = 1;

  // baseURL of an IoT box: empty = this server; else Odoo's rule
  // (<protocol>//<iot_ip>, with :8069 on plain http) unless iot_ip already
  // names a scheme or a port.
  function baseURL(iotIP) {
    if (!iotIP) return '';
    if (/^https?:\/\//.test(iotIP)) return iotIP.replace(/\/+$/, '');
    var hasPort = /:\d+$/.test(iotIP) || /^\[.*\]:\d+$/.test(iotIP);
    return location.protocol + '//' + iotIP + (location.protocol === 'http:' && !hasPort ? ':8069' : '');
  }

  // post sends the IoT box's request shape: a body with only params.
  function post(url, params, signal) {
    return fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json;charset=utf-8' },
      body: JSON.stringify({ params: params }),
      signal: signal,
    }).then(function (resp) {
      if (!resp.ok) throw new Error('HTTP ' + resp.status);
      return resp.json();
    }).then(function (body) {
      if (body && body.error) {
        var err = new Error((body.error.data && body.error.data.message) || body.error.message || 'IoT error');
        err.data = body.error;
        throw err;
      }
      return body ? body.result : undefined;
    });
  }

  // Poller is the one long-poll per server for every listened device.
  function Poller(base) {
    this.base = base;
    this.devices = {}; // identifier -> {listener_id, callbacks: {listener_id: cb}}
    this.lastEvent = 0;
    this.controller = null;
    this.timer = null;
    this.retry = MIN_RETRY;
    this.generation = 0;
  }

  Poller.prototype.add = function (identifier, listenerId, cb) {
    var d = this.devices[identifier] || (this.devices[identifier] = { listener_id: listenerId, callbacks: {} });
    d.listener_id = listenerId;
    d.callbacks[listenerId] = cb;
    this.restart();
  };

  Poller.prototype.remove = function (identifier, listenerId) {
    var d = this.devices[identifier];
    if (!d) return;
    delete d.callbacks[listenerId];
    var left = Object.keys(d.callbacks);
    if (left.length === 0) delete this.devices[identifier];
    else d.listener_id = left[left.length - 1];
    this.restart();
  };

  // restart aborts the running poll and starts one with the current
  // device set (Odoo's client does the same when a device is added).
  Poller.prototype.restart = function () {
    this.generation++;
    if (this.controller) this.controller.abort();
    this.controller = null;
    clearTimeout(this.timer);
    this.retry = MIN_RETRY;
    if (Object.keys(this.devices).length > 0) this.poll();
  };

  Poller.prototype.poll = function () {
    var self = this;
    var gen = this.generation;
    var devices = {};
    Object.keys(this.devices).forEach(function (id) {
      devices[id] = { listener_id: self.devices[id].listener_id, device_identifier: id };
    });
    var controller = new AbortController();
    this.controller = controller;
    var timeout = setTimeout(function () { controller.abort(); }, POLL_TIMEOUT);
    post(this.base + '/hw_drivers/event', {
      listener: { session_id: SESSION_ID, last_event: this.lastEvent, devices: devices },
    }, controller.signal).then(function (result) {
      clearTimeout(timeout);
      if (gen !== self.generation) return; // superseded by a restart
      self.retry = MIN_RETRY;
      // No result: the server's wait ended without news. A result for
      // another session belongs to someone else's listener.
      if (result && result.session_id === SESSION_ID) {
        if (typeof result.time === 'number' && result.time > self.lastEvent) self.lastEvent = result.time;
        var d = self.devices[result.device_identifier];
        if (d) {
          Object.keys(d.callbacks).forEach(function (k) {
            try { d.callbacks[k](result); } catch (e) { console.error('DeviceProxy listener failed', e); }
          });
        }
      }
      self.schedule(0);
    }, function (err) {
      clearTimeout(timeout);
      if (gen !== self.generation) return;
      // Our own client timeout is an ordinary end of a poll; other
      // failures back off so a dead server is not hammered.
      var wait = err && err.name === 'AbortError' ? 0 : self.retry;
      if (wait) self.retry = Math.min(MAX_RETRY, self.retry * 2);
      self.schedule(wait);
    });
  };

  Poller.prototype.schedule = function (wait) {
    var self = this;
    var gen = this.generation;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () {
      if (gen === self.generation && Object.keys(self.devices).length > 0) self.poll();
    }, wait);
  };

  var pollers = {};
  function pollerFor(base) {
    return pollers[base] || (pollers[base] = new Poller(base));
  }

  /**
   * DeviceProxy({iot_ip, identifier}) talks to one device through an IoT
   * box, or through this server when iot_ip is empty.
   */
  function DeviceProxy(opts) {
    opts = opts || {};
    this.iot_ip = opts.iot_ip || '';
    this.identifier = opts.identifier;
    this._base = baseURL(this.iot_ip);
    this._listener = null;
  }

  /** action sends data (an object) to the device; resolves to the server's result (true/false). */
  DeviceProxy.prototype.action = function (data) {
    var controller = new AbortController();
    var timeout = setTimeout(function () { controller.abort(); }, ACTION_TIMEOUT);
    return post(this._base + '/hw_drivers/action', {
      session_id: SESSION_ID,
      device_identifier: this.identifier,
      data: JSON.stringify(data),
    }, controller.signal).finally(function () { clearTimeout(timeout); });
  };

  /** add_listener calls callback with every event of the device. */
  DeviceProxy.prototype.add_listener = function (callback) {
    if (this._listener) this.remove_listener();
    this._listener = 'listener-' + nextListener++;
    pollerFor(this._base).add(this.identifier, this._listener, callback);
  };

  /** remove_listener stops listening. */
  DeviceProxy.prototype.remove_listener = function () {
    if (!this._listener) return;
    pollerFor(this._base).remove(this.identifier, this._listener);
    this._listener = null;
  };

  /** The page's session id (results of other sessions are ignored). */
  DeviceProxy.session_id = SESSION_ID;

  globalThis.DeviceProxy = DeviceProxy;
})();
