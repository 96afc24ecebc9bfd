// Panels of a device's form: its last values and event, its actions
// (sent through DeviceProxy.action, the IoT-box route any widget uses),
// the live event log (DeviceProxy.add_listener), and Push config.
import { h, replace, errorBox, toast, formatTime, formatDatetime } from '../dom.js';
import { callKw, orm } from '../rpc.js';
import { bus } from '../bus.js';
import { DeviceProxy } from '../device_proxy.js';

/** parseJSON is the parsed value, or the text itself when it is not JSON. */
function parseJSON(text) {
  if (typeof text !== 'string' || !text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** valueText renders any JSON value compactly as text. */
function valueText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** kvTable shows an object as a two-column table, anything else as text. */
function kvTable(value, testid) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (!keys.length) return h('p', { class: 'muted', text: 'Empty.' });
    return h('table', { class: 'table table-sm kv', 'data-testid': testid },
      h('tbody', {}, keys.map((k) => h('tr', { 'data-key': k },
        h('th', { scope: 'row', text: k }),
        h('td', {}, h('span', { class: 'cell-text mono', text: valueText(value[k]) }))))));
  }
  if (value === null) return h('p', { class: 'muted', text: 'Nothing yet.' });
  return h('pre', { class: 'code', 'data-testid': testid, text: valueText(value) });
}

/**
 * readingsTable shows last_values when it has the shape {sensor: {value,
 * unit, time}}: one row per sensor with its local time; else kvTable.
 */
function readingsTable(value, testid) {
  const entries = value && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value) : [];
  const isReading = (v) => v && typeof v === 'object' && !Array.isArray(v) && 'value' in v;
  if (!entries.length || !entries.every(([, v]) => isReading(v))) return kvTable(value, testid);
  return h('table', { class: 'table table-sm readings', 'data-testid': testid },
    h('thead', {}, h('tr', {}, ['Sensor', 'Value', 'Time'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, entries.map(([k, v]) => h('tr', { 'data-key': k },
      h('th', { scope: 'row', text: k }),
      h('td', { class: 'reading-value' }, h('strong', { text: valueText(v.value) }), v.unit ? ` ${v.unit}` : ''),
      h('td', { class: 'muted', text: typeof v.time === 'string' ? formatDatetime(v.time) : valueText(v.time) })))));
}

/**
 * deviceValues shows last_values and last_event; device notes refresh
 * it. opts (the panel's declaration): {live: {channel, event, update}}:
 * an event note of this device re-reads the values, an update note
 * reloads the form.
 */
export function deviceValues({ model, id, record, form, opts }) {
  const body = h('div', { class: 'device-values' });
  const el = h('section', { class: 'card panel', 'data-testid': 'device-values' },
    h('header', { class: 'panel-header' }, h('h3', { text: 'Last values' })), body);
  const render = (rec) => {
    replace(body,
      readingsTable(parseJSON(rec.last_values), 'device-last-values'),
      'last_event' in rec ? h('h4', { text: 'Last event' }) : null,
      'last_event' in rec ? kvTable(parseJSON(rec.last_event), 'device-last-event') : null,
      rec.info ? h('details', { class: 'device-info' }, h('summary', { text: 'Descriptor' }), kvTable(parseJSON(rec.info), 'device-info')) : null);
  };
  render(record);
  // Events (every reading) refresh this panel only, at most once a
  // second; updates (created, online/offline) refresh the whole form.
  let timer = null;
  let rec = record;
  const refreshValues = () => {
    if (timer) return;
    timer = setTimeout(async () => {
      timer = null;
      try {
        const rows = await orm.read(model, [id], ['last_values', 'last_event', 'info'].filter((f) => f in rec));
        if (rows.length) render(rec = { ...rec, ...rows[0] });
      } catch {
        // the next event retries
      }
    }, 1000);
  };
  const { live } = opts;
  bus.addChannel(live.channel);
  const offs = [
    bus.on(live.event, (p) => { if (p && p.device_id === id) refreshValues(); }),
    bus.on(live.update, (p) => { if (p && p.device_id === id && !form.isDirty()) form.reload(); }),
  ];
  return {
    el,
    update: (r) => render(rec = r),
    destroy: () => {
      clearTimeout(timer);
      offs.forEach((off) => off());
    },
  };
}

/** actionNames reads the actions field: a JSON list, or names separated by commas. */
export function actionNames(v) {
  if (!v || typeof v !== 'string') return [];
  const parsed = parseJSON(v);
  const list = Array.isArray(parsed) ? parsed : v.split(/[,\s]+/);
  return list.map((x) => (typeof x === 'object' && x ? x.name || x.action || x.id : x))
    .filter((x) => typeof x === 'string' && x.trim()).map((x) => x.trim());
}

/** deviceActions: one button per declared action, and a free JSON action. */
export function deviceActions({ record }) {
  let proxy = new DeviceProxy({ iot_ip: '', identifier: record.identifier });
  const buttonsBox = h('div', { class: 'device-actions-buttons' });
  const result = h('div', { class: 'muted small', 'data-testid': 'device-action-result', 'aria-live': 'polite' });
  const json = h('textarea', { class: 'input mono', name: 'action_json', rows: '3', spellcheck: 'false', 'data-testid': 'device-action-json',
    placeholder: '{"action": "toggle"}' });
  const send = async (data, btn) => {
    if (btn) btn.disabled = true;
    try {
      const ok = await proxy.action(data);
      result.textContent = `${formatTime(new Date())} ${ok ? 'sent' : 'refused'}: ${JSON.stringify(data)}`;
      result.dataset.result = ok ? 'true' : 'false';
      if (!ok) toast({ title: 'Action refused', message: 'The device is unknown, offline, or has no such action.', type: 'warning' });
    } catch (e) {
      result.textContent = '';
      toast({ title: 'Action failed', message: e.message, type: 'danger' });
    } finally {
      if (btn) btn.disabled = false;
    }
  };
  const sendJSON = h('button', { type: 'button', class: 'btn', 'data-testid': 'device-action-send', text: 'Send action',
    onclick: (e) => {
      let data;
      try {
        data = JSON.parse(json.value || '{}');
      } catch (err) {
        toast({ title: 'Invalid JSON', message: err.message, type: 'danger' });
        return;
      }
      send(data, e.currentTarget);
    } });
  const render = (rec) => {
    proxy = new DeviceProxy({ iot_ip: '', identifier: rec.identifier });
    const names = actionNames(rec.actions);
    replace(buttonsBox, names.length
      ? names.map((n) => h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'device-action', 'data-action': n, text: n,
        onclick: (e) => send({ action: n }, e.currentTarget) }))
      : h('p', { class: 'muted', text: 'The device declares no action.' }));
  };
  render(record);
  const el = h('section', { class: 'card panel', 'data-testid': 'device-actions' },
    h('header', { class: 'panel-header' }, h('h3', { text: 'Actions' })),
    buttonsBox,
    h('label', { class: 'form-label', text: 'Custom action (JSON)' }), json,
    h('div', { class: 'panel-actions' }, sendJSON, result));
  return { el, update: render };
}

const EVENTS_KEPT = 50;

/** deviceEvents listens to the device through DeviceProxy.add_listener. */
export function deviceEvents({ record }) {
  const list = h('ol', { class: 'event-log', 'data-testid': 'device-events' });
  const empty = h('p', { class: 'muted', text: 'Waiting for events…' });
  let proxy = null;
  const listen = (identifier) => {
    if (proxy && proxy.identifier === identifier) return;
    if (proxy) proxy.remove_listener();
    proxy = new DeviceProxy({ iot_ip: '', identifier });
    proxy.add_listener((res) => {
      empty.remove();
      const { session_id: _s, ...shown } = res;
      const t = typeof res.time === 'number' ? new Date(res.time * 1000) : new Date();
      const what = [res.kind, res.sensor || res.event, res.topic].filter((x) => typeof x === 'string' && x).join(' · ');
      list.prepend(h('li', { class: 'event live-new', 'data-testid': 'device-event' },
        h('div', { class: 'event-line' },
          h('time', { text: formatTime(t) }),
          'value' in res ? h('strong', { class: 'event-value', text: valueText(res.value) }) : null,
          h('span', { class: 'muted', text: what })),
        h('details', {}, h('summary', { text: 'details' }), h('pre', { class: 'code', text: JSON.stringify(shown, null, 2) }))));
      while (list.children.length > EVENTS_KEPT) list.lastElementChild.remove();
    });
  };
  if (record.identifier) listen(record.identifier);
  const el = h('section', { class: 'card panel', 'data-testid': 'device-events-panel' },
    h('header', { class: 'panel-header' }, h('h3', {}, 'Events ', h('span', { class: 'live-dot', title: 'Live' }))), empty, list);
  return {
    el,
    update: (rec) => rec.identifier && listen(rec.identifier),
    destroy: () => proxy && proxy.remove_listener(),
  };
}

/**
 * devicePushConfig publishes a retained JSON config through a method of
 * the form's model: opts (the panel's declaration) {method}.
 */
export function devicePushConfig({ model, id, opts }) {
  const errors = h('div');
  const text = h('textarea', { class: 'input mono', name: 'push_config', rows: '4', spellcheck: 'false', 'data-testid': 'push-config-json',
    placeholder: '{"interval": 10}' });
  const btn = h('button', { type: 'button', class: 'btn', 'data-testid': 'push-config', 'data-method': opts.method, text: 'Push config',
    onclick: async () => {
      errors.replaceChildren();
      let config;
      try {
        config = JSON.parse(text.value || '{}');
      } catch (e) {
        errors.append(errorBox({ title: 'Invalid JSON', message: e.message }));
        return;
      }
      btn.disabled = true;
      try {
        await callKw(model, opts.method, [[id], config]);
        toast({ title: 'Config pushed', message: 'Published retained on the device\'s config topic.', type: 'success' });
      } catch (e) {
        errors.append(errorBox(e));
      } finally {
        btn.disabled = false;
      }
    } });
  const el = h('section', { class: 'card panel', 'data-testid': 'device-push-config' },
    h('header', { class: 'panel-header' }, h('h3', { text: 'Push config' })),
    errors, text, h('div', { class: 'panel-actions' }, btn));
  return { el };
}

