// Reading any payload (issue 13): a history row's payload as collapsible,
// pretty-printed JSON, as a hex dump with its base64 and a download when
// its bytes are not UTF-8, or as text; and a line diff against the
// message before it on the same topic of the same broker. The history
// form shows it as a panel; the list's payload column uses payloadCell.
import { h, replace } from './dom.js';
import { orm } from './rpc.js';
import { useStyle } from './payload_style.js';

/** bytesOf decodes base64 (a binary field on the wire) to bytes. */
export function bytesOf(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** textOf is the bytes as text, or null when they are not UTF-8 (or hold NUL). */
export function textOf(bytes) {
  try {
    const t = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return t.includes('\u0000') ? null : t;
  } catch (e) {
    return null;
  }
}

/** jsonOf is the object or array text holds, or undefined. */
export function jsonOf(text) {
  const t = text.trim();
  if (!(t.startsWith('{') || t.startsWith('[')) || t.length > 1 << 20) return undefined;
  try {
    return JSON.parse(t);
  } catch (e) {
    return undefined;
  }
}

/**
 * hexDump is the classic view of bytes, 16 a line: the offset, the
 * bytes in hex (a gap after 8), and their printable ASCII ('.' else).
 */
export function hexDump(bytes, max = 64 << 10) {
  const lines = [];
  const n = Math.min(bytes.length, max);
  for (let off = 0; off < n; off += 16) {
    const row = bytes.slice(off, Math.min(off + 16, n));
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      hex += i < row.length ? row[i].toString(16).padStart(2, '0') + ' ' : '   ';
      if (i === 7) hex += ' ';
      if (i < row.length) ascii += row[i] >= 0x20 && row[i] < 0x7f ? String.fromCharCode(row[i]) : '.';
    }
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex} |${ascii}|`);
  }
  if (bytes.length > n) lines.push(`… ${bytes.length - n} more bytes (download to see them all)`);
  return lines.join('\n');
}

/**
 * lineDiff is the line diff of a against b (longest common subsequence):
 * [{op: ' '|'-'|'+', line}], '-' for lines only in a. Past 2000 lines a
 * side it compares line by line, which stays cheap.
 */
export function lineDiff(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  if (x.length > 2000 || y.length > 2000) {
    const out = [];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      if (x[i] === y[i]) out.push({ op: ' ', line: x[i] });
      else {
        if (i < x.length) out.push({ op: '-', line: x[i] });
        if (i < y.length) out.push({ op: '+', line: y[i] });
      }
    }
    return out;
  }
  const m = x.length;
  const n = y.length;
  const L = Array.from({ length: m + 1 }, () => new Uint16Array(n + 1));
  for (let i = m - 1; i >= 0; i--) {
    for (let j = n - 1; j >= 0; j--) L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < m && j < n) {
    if (x[i] === y[j]) { out.push({ op: ' ', line: x[i] }); i++; j++; } else if (L[i + 1][j] >= L[i][j + 1]) out.push({ op: '-', line: x[i++] });
    else out.push({ op: '+', line: y[j++] });
  }
  while (i < m) out.push({ op: '-', line: x[i++] });
  while (j < n) out.push({ op: '+', line: y[j++] });
  return out;
}

/** comparable is the text a diff compares: pretty JSON, text, or the hex dump. */
export function comparable(row) {
  const bytes = rowBytes(row);
  const text = textOf(bytes);
  if (text === null) return hexDump(bytes);
  const json = jsonOf(text);
  return json === undefined ? text : JSON.stringify(json, null, 2);
}

function rowBytes(row) {
  if (typeof row.payload_raw === 'string' && row.payload_raw) return bytesOf(row.payload_raw);
  return new TextEncoder().encode(row.payload || '');
}

// jsonTree renders a value as nested <details>, each object and array
// collapsible, open to the given depth.
function jsonTree(value, key, depth) {
  const label = key === undefined ? null : h('span', { class: 'pl-key', text: `${JSON.stringify(key)}: ` });
  if (value !== null && typeof value === 'object') {
    const arr = Array.isArray(value);
    const entries = arr ? value.map((v, i) => [i, v]) : Object.entries(value);
    const count = arr ? `[${entries.length}]` : `{${entries.length}}`;
    return h('details', { class: 'pl-node', open: depth < 3 },
      h('summary', {}, label, h('span', { class: 'pl-count', text: count })),
      h('div', { class: 'pl-children' }, entries.map(([k, v]) => jsonTree(v, arr ? undefined : k, depth + 1))));
  }
  const kind = value === null ? 'null' : typeof value;
  return h('div', { class: 'pl-leaf' }, label, h('span', { class: `pl-${kind}`, text: JSON.stringify(value) }));
}

// download offers bytes as a file, through a blob: URL made on click.
function downloadButton(bytes, name) {
  return h('button', {
    type: 'button', class: 'btn pl-btn-sm', 'data-testid': 'payload-download', text: `Download (${bytes.length} bytes)`,
    onclick: () => {
      const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
      const a = h('a', { href: url, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    },
  });
}

function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** payloadNode is the view of one row's payload: {node, kind: json|text|binary}. */
export function payloadNode(row) {
  const bytes = rowBytes(row);
  const text = textOf(bytes);
  if (text === null) {
    const b64 = typeof row.payload_raw === 'string' && row.payload_raw ? row.payload_raw : toBase64(bytes);
    const name = `${(row.topic || 'payload').replace(/[^A-Za-z0-9._-]+/g, '_')}-${row.id || 0}.bin`;
    return {
      kind: 'binary',
      node: h('div', { class: 'pl-binary' },
        h('p', { class: 'muted', text: `Binary payload, ${bytes.length} bytes (not UTF-8).` }),
        h('pre', { class: 'pl-hexdump', 'data-testid': 'payload-hexdump', text: hexDump(bytes) }),
        h('div', { class: 'pl-b64-row' }, h('span', { class: 'pl-label', text: 'Base64 ' }),
          h('code', { class: 'pl-b64', 'data-testid': 'payload-base64', text: b64 })),
        downloadButton(bytes, name)),
    };
  }
  const json = jsonOf(text);
  if (json !== undefined) {
    const pretty = JSON.stringify(json, null, 2);
    const raw = h('pre', { class: 'pl-text', 'data-testid': 'payload-pretty', text: pretty });
    const tree = h('div', { class: 'pl-tree', 'data-testid': 'payload-json' }, jsonTree(json, undefined, 0));
    raw.hidden = true;
    const toggle = h('button', {
      type: 'button', class: 'btn pl-btn-sm', 'data-testid': 'payload-toggle', text: 'Show as text',
      onclick: () => { raw.hidden = !raw.hidden; tree.hidden = !raw.hidden; toggle.textContent = raw.hidden ? 'Show as text' : 'Show as tree'; },
    });
    return { kind: 'json', node: h('div', { class: 'pl-jsonbox' }, toggle, tree, raw) };
  }
  return { kind: 'text', node: h('pre', { class: 'pl-text', 'data-testid': 'payload-text', text }) };
}

const m2oId = (v) => (Array.isArray(v) ? v[0] : v);
const FIELDS = ['payload', 'payload_raw', 'topic', 'broker_id', 'timestamp'];

/** previousOf fetches the message before row on its topic and broker (by timestamp, then id). */
export async function previousOf(model, row) {
  const domain = [['topic', '=', row.topic], ['broker_id', '=', m2oId(row.broker_id) || false],
    '|', ['timestamp', '<', row.timestamp], '&', ['timestamp', '=', row.timestamp], ['id', '<', row.id]];
  const rows = await orm.searchRead(model, domain, ['id', ...FIELDS], { limit: 1, order: 'timestamp desc, id desc' });
  return rows[0] || null;
}

function diffNode(lines) {
  return h('pre', { class: 'pl-diff', 'data-testid': 'payload-diff' },
    lines.map((d) => h('div', { class: ['pl-diff-line', d.op === '+' ? 'pl-add' : d.op === '-' ? 'pl-del' : ''], dataset: { op: d.op }, text: `${d.op} ${d.line}` })));
}

/**
 * payloadPanel is the history form's panel: {panel: payloadPanel}. It
 * reads the row's payload bytes (payload_raw) itself, since the form
 * reads no binary field it shows no widget for.
 */
export function payloadPanel({ model, id }) {
  useStyle();
  const body = h('div', { class: 'pl-body' });
  const diffBox = h('div', { class: 'pl-diffbox', 'data-testid': 'payload-diffbox' });
  const diffBtn = h('button', { type: 'button', class: 'btn pl-btn-sm', 'data-testid': 'payload-diff-btn', text: 'Diff with previous message' });
  const el = h('section', { class: 'card pl-panel', 'data-testid': 'payload-view' },
    h('header', { class: 'pl-head' }, h('h3', { text: 'Payload' }), diffBtn), body, diffBox);
  let row = null;
  let seq = 0;
  diffBtn.onclick = async () => {
    if (!row) return;
    if (diffBox.childElementCount) { diffBox.replaceChildren(); return; }
    const prev = await previousOf(model, row);
    if (!prev) {
      replace(diffBox, h('p', { class: 'muted', 'data-testid': 'payload-diff-none', text: 'No earlier message on this topic.' }));
      return;
    }
    replace(diffBox, h('p', { class: 'muted' }, 'Against ', h('a', { href: `#${location.hash.slice(1).replace(/\/\d+$/, '')}/${prev.id}`, text: `the message of ${prev.timestamp} UTC` }), ' (- before, + this one):'),
      diffNode(lineDiff(comparable(prev), comparable(row))));
  };
  const update = async () => {
    const mine = ++seq;
    const rows = await orm.read(model, [id], ['id', ...FIELDS]);
    if (mine !== seq || !rows.length) return;
    row = rows[0];
    const v = payloadNode(row);
    el.dataset.kind = v.kind;
    diffBox.replaceChildren();
    replace(body, v.node);
  };
  if (id) update();
  return { el, update: () => id && update(), destroy() { seq++; } };
}

/**
 * payloadCell is the list's payload widget: the payload text as it came,
 * tagged JSON or binary (its text holds U+FFFD for the bytes that are not
 * UTF-8). The tag is drawn by CSS from data-tag, so the cell's text stays
 * the payload's. A class, so that render is no own
 * key: the view snapshot lists the widget by its name.
 */
class PayloadCell {
  constructor() { this.widget = 'payload'; }

  render(value) {
    useStyle();
    const text = typeof value === 'string' ? value : '';
    if (text.includes('\uFFFD')) {
      return h('span', { class: 'pl-cell' }, h('span', { class: 'pl-tag pl-tag-bin', dataset: { tag: 'binary' } }), text);
    }
    const json = jsonOf(text);
    if (json !== undefined) {
      return h('span', { class: 'pl-cell' }, h('span', { class: 'pl-tag', dataset: { tag: 'JSON' } }), text);
    }
    return document.createTextNode(text);
  }
}

export const payloadCell = new PayloadCell();
