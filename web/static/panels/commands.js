// The Commands panel of a device's form: its recent request/response
// commands with their status, kept live by the bus notes of their status
// changes, and a small form that calls one (without waiting: the answer
// shows when its note arrives).
import { h, replace, errorBox, toast, formatDatetime, formatTime, badge } from '../dom.js';
import { callKw, orm } from '../rpc.js';
import { bus } from '../bus.js';
import { toneOf, selectionLabel } from '../fields.js';
import { fieldsOf } from '../small_list.js';

const FIELDS = ['create_date', 'name', 'status', 'response', 'error', 'timeout', 'persistent'];
const FINAL = new Set(['succeeded', 'failed', 'timed_out']);

/** parseParams reads the params text: {} when empty; throws on bad JSON. */
export function parseParams(text) {
  const t = (text || '').trim();
  return t ? JSON.parse(t) : {};
}

/** outcome is what a command's row says of its result. */
function outcome(c) {
  if (c.error) return c.error;
  if (typeof c.response === 'string' && c.response) return c.response;
  return '';
}

/**
 * deviceCommands lists the records of opts.model whose opts.field is
 * this record, newest first, and calls opts.method of the form's model
 * (call_async: it returns the new command's id). opts (the panel's
 * declaration): {title, model, field, method, live {channel, type}: the
 * notes of a command's status ({id, <field>, name, status, response,
 * error}), limit, href(row)}.
 */
export function deviceCommands({ model, id, opts }) {
  const limit = opts.limit || 10;
  let statusField = { selection: [] };
  const rows = new Map(); // command id -> tr
  const latest = new Map(); // command id -> last note or record
  let waitingFor = null; // the command this form called, until it finishes

  const tbody = h('tbody');
  const empty = h('p', { class: 'muted', text: 'No command yet.' });
  const table = h('table', { class: 'table table-sm', 'data-testid': 'device-commands' },
    h('thead', {}, h('tr', {}, ['Created', 'Method', 'Status', 'Response'].map((t) => h('th', { scope: 'col', text: t })))), tbody);
  const errors = h('div');
  const result = h('div', { class: 'command-result', 'data-testid': 'command-result', 'aria-live': 'polite' });

  const cells = (c) => [
    h('td', { 'data-field': 'create_date', text: c.create_date ? formatDatetime(c.create_date) : formatTime(new Date()) }),
    h('td', { 'data-field': 'name' }, h('span', { class: 'cell-text mono', text: c.name || '' })),
    h('td', { 'data-field': 'status' }, badge(c.status, selectionLabel(statusField, c.status), toneOf(c.status))),
    h('td', { 'data-field': 'response' }, h('span', { class: ['cell-text', 'mono', c.error ? 'text-danger' : null], text: outcome(c) })),
  ];
  /** upsert shows c (a record, or a note: no create_date) in its row. */
  const upsert = (c, isNew) => {
    const prev = latest.get(c.id) || {};
    const merged = { ...prev, ...c };
    latest.set(c.id, merged);
    let tr = rows.get(c.id);
    if (!tr) {
      tr = h('tr', { class: ['data-row', isNew ? 'live-new' : null], 'data-id': String(c.id), 'data-testid': 'device-command' });
      const href = opts.href && opts.href(merged);
      if (href) {
        tr.classList.add('clickable');
        tr.addEventListener('click', () => { location.hash = href; });
      }
      rows.set(c.id, tr);
      if (isNew) tbody.prepend(tr); else tbody.append(tr);
      while (tbody.children.length > Math.max(limit, 50)) {
        const last = tbody.lastElementChild;
        rows.delete(Number(last.dataset.id));
        last.remove();
      }
    }
    tr.dataset.status = merged.status;
    replace(tr, cells(merged));
    empty.remove();
    if (waitingFor === c.id) showResult(merged);
  };

  const showResult = (c) => {
    const head = h('div', {}, h('strong', { text: `${c.name} ` }), badge(c.status, selectionLabel(statusField, c.status), toneOf(c.status)));
    let body = null;
    if (c.status === 'succeeded') {
      let text = c.response;
      try {
        text = JSON.stringify(JSON.parse(c.response), null, 2);
      } catch {
        // shown as stored
      }
      body = h('pre', { class: 'code', 'data-testid': 'command-response', text });
    } else if (c.error) {
      body = h('p', { class: 'text-danger', 'data-testid': 'command-error', text: c.error });
    } else {
      body = h('p', { class: 'muted', text: c.status === 'pending' ? 'Waiting for the device to come online…' : 'Waiting for the answer…' });
    }
    result.dataset.status = c.status;
    replace(result, head, body);
    if (FINAL.has(c.status)) waitingFor = null;
  };

  async function load() {
    errors.replaceChildren();
    try {
      const fields = await fieldsOf(opts.model);
      statusField = fields.status || statusField;
      const recs = await orm.searchRead(opts.model, [[opts.field, '=', id]], FIELDS, { limit, order: 'id desc' });
      recs.forEach((r) => upsert(r, false));
    } catch (e) {
      errors.append(errorBox(e));
    }
  }

  const name = h('input', { class: 'input mono', name: 'command_name', 'data-testid': 'command-name', placeholder: 'get_state', required: true });
  const params = h('textarea', { class: 'input mono', name: 'command_params', rows: '2', spellcheck: 'false', 'data-testid': 'command-params',
    placeholder: '{}' });
  const timeout = h('input', { class: 'input', type: 'number', min: '1', max: '3600', value: '10', name: 'command_timeout', 'data-testid': 'command-timeout' });
  const persistent = h('input', { type: 'checkbox', name: 'command_persistent', 'data-testid': 'command-persistent' });
  const formErrors = h('div');
  const callBtn = h('button', { type: 'submit', class: 'btn', 'data-testid': 'command-call', text: 'Call' });
  const form = h('form', { class: 'command-form', 'data-testid': 'command-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      formErrors.replaceChildren();
      let p;
      try {
        p = parseParams(params.value);
      } catch (e) {
        formErrors.append(errorBox({ title: 'Params are not JSON', message: e.message }, { testid: 'command-params-error' }));
        return;
      }
      const secs = Number(timeout.value || 10);
      if (!name.value.trim() || !Number.isFinite(secs) || secs < 1 || secs > 3600) {
        formErrors.append(errorBox({ title: 'Invalid command', message: 'A method name and a timeout of 1 to 3600 seconds are needed.' }));
        return;
      }
      callBtn.disabled = true;
      try {
        const cid = await callKw(model, opts.method, [[id]], { name: name.value.trim(), params: p, timeout: Math.round(secs), persistent: persistent.checked });
        waitingFor = cid;
        const known = latest.get(cid);
        if (known) showResult(known); else replace(result, h('p', { class: 'muted', text: `Command ${cid} created…` }));
        toast({ title: 'Command sent', message: `${name.value.trim()} (#${cid})`, type: 'info' });
      } catch (e) {
        formErrors.append(errorBox(e));
      } finally {
        callBtn.disabled = false;
      }
    } },
  h('div', { class: 'command-fields' },
    h('label', { class: 'form-label' }, 'Method', name),
    h('label', { class: 'form-label' }, 'Params (JSON)', params),
    h('label', { class: 'form-label' }, 'Timeout (s)', timeout),
    h('label', { class: 'form-label checkbox' }, persistent, ' Persistent (wait for the device to be online)')),
  formErrors,
  h('div', { class: 'panel-actions' }, callBtn));

  const el = h('section', { class: 'card panel live-panel', 'data-testid': 'device-commands-panel' },
    h('header', { class: 'panel-header' }, h('h3', {}, opts.title || 'Commands', ' ', h('span', { class: 'live-dot', title: 'Live', 'aria-label': 'live' }))),
    errors, h('div', { class: 'table-wrap' }, table), empty, form, result);

  const { live } = opts;
  bus.addChannel(live.channel);
  const off = bus.on(live.type, (p) => {
    if (p && p[opts.field] === id && p.id) upsert(p, !rows.has(p.id));
  });
  load();
  return { el, destroy: off };
}
