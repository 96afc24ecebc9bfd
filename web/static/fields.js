// Field rendering: how a value of each fields_get type looks in a list
// cell or read-only form field, and the input that edits it.
import { h, formatDatetime, localInputValue, fromLocalInput, badge } from './dom.js';
import { orm } from './rpc.js';

// tones colour status badges by value, across models.
const tones = {
  success: 'success', connected: 'success', subscribed: 'success', start: 'success', online: 'success', true: 'success',
  fail: 'danger', error: 'danger', disconnected: 'danger',
  connecting: 'warning', reconnecting: 'warning', subscribing: 'warning',
  stop: 'muted', stopped: 'muted', stopped_ok: 'muted', stopped_fail: 'danger', unknown: 'muted', unsubscribed: 'muted', offline: 'muted', false: 'muted',
  send: 'info', receive: 'primary',
  pending: 'warning', sent: 'info', succeeded: 'success', failed: 'danger', timed_out: 'danger', done: 'success',
};

/** toneOf is the badge colour of a state value. */
export function toneOf(value) {
  return tones[String(value)] || 'muted';
}

/** selectionLabel is the label of a selection value. */
export function selectionLabel(field, value) {
  const pair = (field.selection || []).find((p) => p[0] === value);
  return pair ? pair[1] : value === false || value == null ? '' : String(value);
}

/** isSecret: write-only fields (passwords, keys) read as False and are not exportable. */
export function isSecret(name, field) {
  return field.exportable === false || /password|(^|_)key$|secret/.test(name);
}

/** formatText is a value as plain text. */
export function formatText(value, field) {
  if (!field) return value == null || value === false ? '' : String(value);
  switch (field.type) {
    case 'many2one':
      return Array.isArray(value) ? String(value[1] ?? value[0]) : value ? `#${value}` : '';
    case 'selection':
      return selectionLabel(field, value);
    case 'boolean':
      return value ? 'Yes' : 'No';
    case 'datetime':
      return formatDatetime(value);
    case 'date':
      return value || '';
    case 'integer':
      return value === false || value == null ? '' : String(value);
    case 'float':
    case 'monetary':
      return value === false || value == null ? '' : Number(value).toLocaleString(undefined, { maximumFractionDigits: 6 });
    case 'one2many':
    case 'many2many':
      return Array.isArray(value) ? `${value.length} record${value.length === 1 ? '' : 's'}` : '';
    case 'binary':
      return value ? '(binary)' : '';
    default:
      return value === false || value == null ? '' : String(value);
  }
}

/**
 * intSelection is the widget of an integer field shown as a selection of
 * labelled values (a QoS level): choices are [integer, label] pairs. The
 * field stays an integer on the wire; the form shows a select and writes
 * the chosen number, a list cell or read-only field the label.
 */
export function intSelection(choices) {
  return { widget: 'int_selection', choices };
}

// widgetName is a widget's name: widgets are names ('badge') or objects
// with a name and options (intSelection).
function widgetName(widget) {
  return widget && typeof widget === 'object' ? widget.widget : widget;
}

// intLabel is the label of an int_selection value, or the number.
function intLabel(widget, value) {
  if (value === false || value == null) return '';
  const pair = (widget.choices || []).find((c) => c[0] === value);
  return pair ? pair[1] : String(value);
}

// bytesOf decodes a binary field's base64 value, or null when it is not
// base64.
function bytesOf(b64) {
  try {
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch (e) {
    return null;
  }
}

// printable is the bytes as text when they are UTF-8 without control
// characters (a request id), else null.
function printable(bytes) {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return /^[^\u0000-\u001f\u007f]+$/.test(text) ? text : null;
  } catch (e) {
    return null;
  }
}

// bytesNode shows a binary value (the widget 'bytes'): its hex, and its
// text when printable, else its base64, as the wire carries it.
function bytesNode(value) {
  const bytes = typeof value === 'string' && value ? bytesOf(value) : null;
  if (!bytes) return document.createTextNode(value ? String(value) : '');
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const text = printable(bytes);
  return h('span', { class: 'bytes-value', 'data-hex': hex.replaceAll(' ', '') },
    h('code', { text: hex }),
    h('small', { class: 'muted bytes-alt', text: text !== null ? ` text “${text}”` : ` base64 ${value}` }));
}

// pairsNode shows JSON text of [name, value] pairs (the widget 'pairs',
// MQTT 5 user properties) as a two-column table, in their order; other
// text as it is.
function pairsNode(value) {
  let pairs = null;
  try {
    pairs = typeof value === 'string' ? JSON.parse(value) : null;
  } catch (e) {
    pairs = null;
  }
  const ok = Array.isArray(pairs) && pairs.every((p) => Array.isArray(p) && p.length === 2);
  if (!ok) return document.createTextNode(value === false || value == null ? '' : String(value));
  return h('table', { class: 'pairs-table' },
    h('thead', {}, h('tr', {}, h('th', { text: 'Name' }), h('th', { text: 'Value' }))),
    h('tbody', {}, pairs.map(([k, v]) => h('tr', {}, h('td', { text: String(k) }), h('td', { text: String(v) })))));
}

/**
 * formatCell is a value as a node for a list cell or a read-only field:
 * badges for the widget 'badge', check marks for booleans, local time for
 * datetimes, an int_selection's label, a binary's bytes ('bytes'), a
 * table of name/value pairs ('pairs'), text for everything else.
 */
export function formatCell(value, field, widget) {
  if (!field) return document.createTextNode('');
  const name = widgetName(widget);
  // A widget object with render(value, field) draws its own node (payload_view.js's payloadCell).
  if (widget && typeof widget.render === 'function') return widget.render(value, field);
  if (name === 'int_selection') return document.createTextNode(intLabel(widget, value));
  if (name === 'bytes') return bytesNode(value);
  if (name === 'pairs') return pairsNode(value);
  if (widget === 'badge' && field.type === 'selection') {
    return value ? badge(value, selectionLabel(field, value), toneOf(value)) : document.createTextNode('');
  }
  if (widget === 'online' || (widget === 'badge' && field.type === 'boolean')) {
    const on = Boolean(value);
    const label = widget === 'online' ? (on ? 'Online' : 'Offline') : on ? 'Yes' : 'No';
    return badge(on, label, on ? 'success' : 'muted');
  }
  if (field.type === 'boolean') {
    return h('span', { class: ['check', value ? 'check-on' : 'check-off'], 'aria-label': value ? 'Yes' : 'No', text: value ? '✓' : '–' });
  }
  if (field.type === 'datetime' && value) {
    return h('time', { datetime: value.replace(' ', 'T') + 'Z', title: value + ' UTC', text: formatDatetime(value) });
  }
  return document.createTextNode(formatText(value, field));
}

/**
 * fieldInput builds the editor of one form field and returns
 * {el, get, set, focus}. get() is the value to send (write format), or
 * undefined when a secret was left empty (then it is not sent).
 * opts: {name, field, value, readonly, onChange, domain (function of the
 * record, for many2one), record (function returning current values),
 * isNew, widget (intSelection: a select of its choices)}.
 */
export function fieldInput(opts) {
  const { name, field, readonly } = opts;
  const id = `f-${name}`;
  const common = { id, name, 'data-field': name, 'aria-required': field.required ? 'true' : false };
  const changed = () => opts.onChange && opts.onChange(name);
  if (readonly) return readonlyField(opts);
  let el;
  let get;
  let set;
  if (widgetName(opts.widget) === 'int_selection' && field.type === 'integer') {
    // A value outside the choices (written over RPC) stays selectable.
    const choices = [...opts.widget.choices];
    if (typeof opts.value === 'number' && !choices.some((c) => c[0] === opts.value)) choices.push([opts.value, String(opts.value)]);
    el = h('select', { ...common, class: 'input', onchange: changed },
      choices.map(([v, l]) => h('option', { value: String(v), text: l })));
    el.value = String(typeof opts.value === 'number' ? opts.value : choices[0][0]);
    return { el, get: () => Number(el.value), set: (v) => { el.value = String(v); }, focus: () => el.focus() };
  }
  switch (field.type) {
    case 'boolean': {
      el = h('input', { ...common, type: 'checkbox', class: 'checkbox', onchange: changed });
      get = () => el.checked;
      set = (v) => { el.checked = Boolean(v); };
      break;
    }
    case 'integer':
    case 'float':
    case 'monetary': {
      el = h('input', { ...common, type: 'number', step: field.type === 'integer' ? '1' : 'any', class: 'input', oninput: changed });
      get = () => {
        if (el.value === '') return field.type === 'integer' ? 0 : 0.0;
        const n = Number(el.value);
        return field.type === 'integer' ? Math.trunc(n) : n;
      };
      set = (v) => { el.value = v === false || v == null ? '' : String(v); };
      break;
    }
    case 'text': {
      if (isSecret(name, field)) {
        // Write-only text (a private key, websocket headers): as a
        // password, the server never sends it back; empty means "keep".
        el = h('textarea', { ...common, class: 'input', rows: 4, spellcheck: 'false', autocomplete: 'off',
          placeholder: opts.isNew ? '' : 'leave empty to keep', oninput: changed });
        get = () => (el.value === '' ? undefined : el.value);
        set = () => { el.value = ''; };
        break;
      }
      el = h('textarea', { ...common, class: 'input', rows: name === 'payload' ? 6 : 4, spellcheck: 'false', oninput: changed });
      get = () => el.value || false;
      set = (v) => { el.value = v || ''; };
      break;
    }
    case 'selection': {
      el = h('select', { ...common, class: 'input', onchange: changed },
        field.required ? null : h('option', { value: '', text: '' }),
        (field.selection || []).map(([v, l]) => h('option', { value: v, text: l })));
      get = () => el.value || false;
      set = (v) => { el.value = v || ''; };
      break;
    }
    case 'datetime': {
      el = h('input', { ...common, type: 'datetime-local', step: '1', class: 'input', onchange: changed });
      get = () => fromLocalInput(el.value);
      set = (v) => { el.value = localInputValue(v); };
      break;
    }
    case 'date': {
      el = h('input', { ...common, type: 'date', class: 'input', onchange: changed });
      get = () => el.value || false;
      set = (v) => { el.value = v || ''; };
      break;
    }
    case 'many2one':
      return many2oneField(opts, common, changed);
    default: {
      if (isSecret(name, field)) {
        // Write-only: the server never sends the value back. An empty
        // input means "keep"; only typed text is sent.
        el = h('input', { ...common, type: 'password', class: 'input', autocomplete: 'new-password',
          placeholder: opts.isNew ? '' : 'leave empty to keep', oninput: changed });
        get = () => (el.value === '' ? undefined : el.value);
        set = () => { el.value = ''; };
      } else {
        el = h('input', { ...common, type: 'text', class: 'input', spellcheck: 'false', oninput: changed });
        get = () => el.value || (field.type === 'char' ? '' : false);
        set = (v) => { el.value = v === false || v == null ? '' : String(v); };
      }
    }
  }
  set(opts.value);
  return { el, get, set, focus: () => el.focus() };
}

// readonlyField shows a value; get() is undefined so it is never sent.
function readonlyField(opts) {
  const el = h('div', { class: 'readonly-value', id: `f-${opts.name}`, 'data-field': opts.name });
  const set = (v) => el.replaceChildren(opts.field.type === 'selection'
    ? formatCell(v, opts.field, 'badge')
    : formatCell(v, opts.field, opts.widget));
  set(opts.value);
  return { el, get: () => undefined, set, focus: () => {} };
}

// many2oneField is a select filled by name_search (with the field's
// domain, which may depend on the record), plus a filter box for long
// lists. Its value is [id, name] in and id out.
function many2oneField(opts, common, changed) {
  const { field } = opts;
  let current = Array.isArray(opts.value) ? opts.value : false;
  const select = h('select', { ...common, class: 'input', onchange: () => {
    const opt = select.selectedOptions[0];
    current = opt && opt.value ? [Number(opt.value), opt.textContent] : false;
    changed();
  } });
  const filter = h('input', { type: 'search', class: 'input input-sm m2o-filter hidden', placeholder: 'Search…', 'aria-label': `Search ${field.string}`, 'data-testid': `m2o-search-${opts.name}` });
  const wrap = h('div', { class: 'm2o' }, select, filter);
  let seq = 0;
  const load = async (text = '', clearMissing = false) => {
    const mine = ++seq;
    const domain = opts.domain ? opts.domain(opts.record ? opts.record() : {}) : [];
    let rows = [];
    try {
      rows = await orm.nameSearch(field.relation, text, domain, 200);
    } catch (e) {
      rows = [];
    }
    if (mine !== seq) return;
    const options = [h('option', { value: '', text: field.required ? '— select —' : '' })];
    const seen = new Set();
    for (const [rid, label] of rows) {
      seen.add(rid);
      options.push(h('option', { value: String(rid), text: label }));
    }
    if (clearMissing && !text && current && !seen.has(current[0])) {
      current = false; // no longer allowed by the domain (its parent changed)
      changed();
    }
    if (current && !seen.has(current[0])) options.push(h('option', { value: String(current[0]), text: current[1] }));
    select.replaceChildren(...options);
    select.value = current ? String(current[0]) : '';
    filter.classList.toggle('hidden', rows.length < 15 && !text);
  };
  let ft = null;
  filter.addEventListener('input', () => {
    clearTimeout(ft);
    ft = setTimeout(() => load(filter.value), 250);
  });
  load();
  return {
    el: wrap,
    get: () => (current ? current[0] : false),
    set: (v) => { current = Array.isArray(v) ? v : false; load(filter.value); },
    reload: (clearMissing) => load(filter.value, clearMissing),
    focus: () => select.focus(),
  };
}
