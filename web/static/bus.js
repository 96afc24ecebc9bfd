// Odoo 16 bus client: a WebSocket to /websocket that subscribes to
// channels and receives arrays of {id, message: {type, payload}}. It keeps
// the last id, reconnects with backoff and resumes from it, and falls back
// to polling /websocket/peek_notifications when WebSocket does not work.
// Pages listen with bus.on(type, cb).

const MIN_DELAY = 1000;
const MAX_DELAY = 30000;
const POLL_INTERVAL = 2000;
// After this many WebSocket attempts that never opened, poll instead.
const WS_FAILURES_BEFORE_POLLING = 3;
// While polling, try WebSocket again this often.
const WS_RETRY_WHILE_POLLING = 60000;

export class Bus {
  constructor({ url = '/websocket', pollUrl = '/websocket/peek_notifications' } = {}) {
    this.url = url;
    this.pollUrl = pollUrl;
    this.channels = new Set();
    this.last = 0;
    this.listeners = new Map(); // type -> Set(cb); '*' gets every notification
    this.statusListeners = new Set();
    this.status = 'stopped'; // stopped | connecting | open | polling | offline
    this.mode = 'websocket';
    this.ws = null;
    this.running = false;
    this.failures = 0; // consecutive attempts that did not open
    this.timer = null;
    this.pollAbort = null;
    this.firstPoll = true;
    this.lastWsTry = 0;
  }

  /** on registers cb(payload, notification) for a notification type; returns an off function. */
  on(type, cb) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(cb);
    return () => this.listeners.get(type).delete(cb);
  }

  /** onStatus registers cb(status, mode) for connection changes; returns an off function. */
  onStatus(cb) {
    this.statusListeners.add(cb);
    cb(this.status, this.mode);
    return () => this.statusListeners.delete(cb);
  }

  /** addChannel subscribes to more channels (resubscribes a live socket). */
  addChannel(...names) {
    let changed = false;
    for (const n of names) {
      if (!this.channels.has(n)) {
        this.channels.add(n);
        changed = true;
      }
    }
    if (changed) this._subscribe();
  }

  /** start connects; idempotent. */
  start() {
    if (this.running) return;
    this.running = true;
    this._connect();
  }

  /** stop closes the connection and cancels retries and polls. */
  stop() {
    this.running = false;
    clearTimeout(this.timer);
    if (this.pollAbort) this.pollAbort.abort();
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close(1000);
      this.ws = null;
    }
    this._setStatus('stopped');
  }

  _setStatus(status) {
    this.status = status;
    for (const cb of this.statusListeners) cb(status, this.mode);
  }

  _delay() {
    const base = Math.min(MAX_DELAY, MIN_DELAY * 2 ** Math.min(this.failures, 10));
    return base / 2 + Math.random() * base / 2; // jitter: no thundering herd after a restart
  }

  _connect() {
    if (!this.running) return;
    this.mode = 'websocket';
    this.lastWsTry = Date.now();
    this._setStatus('connecting');
    let ws;
    try {
      const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
      ws = new WebSocket(`${proto}//${location.host}${this.url}`);
    } catch {
      this._wsFailed(false);
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.failures = 0;
      this._setStatus('open');
      this._subscribe();
    };
    ws.onmessage = (ev) => {
      let notes;
      try {
        notes = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (Array.isArray(notes)) this._dispatch(notes);
    };
    ws.onclose = (ev) => {
      this.ws = null;
      if (!this.running) return;
      if (ev.code === 4001) {
        // Session expired: the page's next RPC sends the user to the login.
        this._setStatus('offline');
        return;
      }
      this._wsFailed(opened);
    };
  }

  _wsFailed(wasOpen) {
    if (!wasOpen) this.failures++;
    if (!wasOpen && this.failures >= WS_FAILURES_BEFORE_POLLING) {
      this.mode = 'polling';
      this._setStatus('polling');
      this._poll();
      return;
    }
    this._setStatus('offline');
    this.timer = setTimeout(() => this._connect(), wasOpen ? MIN_DELAY : this._delay());
  }

  _subscribe() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ event_name: 'subscribe', data: { channels: [...this.channels], last: this.last } }));
    }
  }

  // _poll asks peek_notifications for news, then again after an interval;
  // every WS_RETRY_WHILE_POLLING it goes back to trying WebSocket.
  async _poll() {
    if (!this.running || this.mode !== 'polling') return;
    if (Date.now() - this.lastWsTry > WS_RETRY_WHILE_POLLING) {
      this.failures = WS_FAILURES_BEFORE_POLLING - 1; // one WebSocket try, then back to polling
      this._connect();
      return;
    }
    this.pollAbort = new AbortController();
    const timeout = setTimeout(() => this.pollAbort.abort(), 60000);
    let wait = POLL_INTERVAL;
    try {
      const resp = await fetch(this.pollUrl, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id: null,
          params: { channels: [...this.channels], last: this.last, is_first_poll: this.firstPoll } }),
        signal: this.pollAbort.signal,
      });
      const body = await resp.json();
      if (body.error) {
        if (body.error.code === 100) {
          this._setStatus('offline');
          return;
        }
        throw new Error(body.error.message);
      }
      this.firstPoll = false;
      const notes = (body.result && body.result.notifications) || [];
      this._dispatch(notes);
      this._setStatus('polling');
    } catch {
      if (!this.running) return;
      this._setStatus('offline');
      wait = this._delay();
    } finally {
      clearTimeout(timeout);
    }
    if (this.running && this.mode === 'polling') this.timer = setTimeout(() => this._poll(), wait);
  }

  _dispatch(notes) {
    for (const n of notes) {
      if (!n || typeof n !== 'object') continue;
      // The last id seen, as Odoo's client keeps it: after a server
      // restart ids start over, and the server resets a too-high "last".
      if (typeof n.id === 'number') this.last = n.id;
      const msg = n.message || {};
      for (const key of [msg.type, '*']) {
        const set = this.listeners.get(key);
        if (!set) continue;
        for (const cb of [...set]) {
          try {
            cb(msg.payload, n);
          } catch (e) {
            console.error('bus listener failed', e);
          }
        }
      }
    }
  }
}

/** bus is the page's one connection. */
export const bus = new Bus();
