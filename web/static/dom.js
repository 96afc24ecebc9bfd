// DOM helpers. Everything the pages show is built here node by node:
// text goes in with textContent (via text nodes), never as markup, so a
// topic or payload like "<img src=x onerror=...>" stays text.

/**
 * h builds an element. attrs: class, text, dataset (object), on<event>
 * (function), any other key is set as an attribute (false/null skip it,
 * true sets it empty). children: nodes, strings (text nodes), arrays,
 * null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'selected') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/** append adds children (nodes, strings, nested arrays) to el. */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** clear empties el and appends children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/**
 * parseUTC reads Odoo's "YYYY-MM-DD HH:MM:SS" (always UTC on the wire).
 */
export function parseUTC(s) {
  if (!s || typeof s !== 'string') return null;
  const d = new Date(s.replace(' ', 'T') + (s.length <= 10 ? 'T00:00:00Z' : 'Z'));
  return isNaN(d) ? null : d;
}

/** formatDatetime shows a UTC wire datetime in the browser's local time. */
export function formatDatetime(s) {
  const d = parseUTC(s);
  if (!d) return '';
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

/** formatTime is HH:MM:SS local of a Date. */
export function formatTime(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** toUTC renders a Date as Odoo's wire datetime. */
export function toUTC(d) {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/** localInputValue is a wire datetime as a datetime-local input value. */
export function localInputValue(s) {
  const d = parseUTC(s);
  if (!d) return '';
  const off = d.getTimezoneOffset() * 60000;
  return new Date(d.getTime() - off).toISOString().slice(0, 19);
}

/** fromLocalInput turns a datetime-local value into a wire datetime. */
export function fromLocalInput(v) {
  if (!v) return false;
  const d = new Date(v); // local time, as the input shows it
  return isNaN(d) ? false : toUTC(d);
}

/** relativeTime is "5 s ago" / "in 3 min" for a Date. */
export function relativeTime(d, now = Date.now()) {
  if (!d) return '';
  const s = Math.round((d.getTime() - now) / 1000);
  const a = Math.abs(s);
  const txt = a < 60 ? `${a} s` : a < 3600 ? `${Math.round(a / 60)} min` : a < 86400 ? `${Math.round(a / 3600)} h` : `${Math.round(a / 86400)} d`;
  return s < 0 ? `${txt} ago` : s > 0 ? `in ${txt}` : 'now';
}

// Toasts: one container, newest at the bottom, each fades after a while
// unless sticky.
let toastBox = null;

/** toast shows a notification: {title, message, type: info|success|warning|danger, sticky}. */
export function toast({ title = '', message = '', type = 'info', sticky = false } = {}) {
  if (!toastBox) {
    toastBox = h('div', { class: 'toasts', 'aria-live': 'polite', 'data-testid': 'toasts' });
    document.body.append(toastBox);
  }
  const close = () => el.remove();
  const el = h('div', { class: ['toast', `toast-${type}`], role: 'status', 'data-testid': 'toast', dataset: { type } },
    h('div', { class: 'toast-body' },
      title ? h('strong', { class: 'toast-title', text: title }) : null,
      message ? h('div', { class: 'toast-message', text: message }) : null),
    h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Close', onclick: close, text: '×' }));
  toastBox.append(el);
  if (!sticky) setTimeout(close, type === 'danger' ? 10000 : 5000);
  return el;
}

/**
 * errorBox is a dismissable box with a server error message.
 */
export function errorBox(err, { testid = 'error' } = {}) {
  const message = err && err.message ? err.message : String(err);
  const box = h('div', { class: 'alert alert-danger', role: 'alert', 'data-testid': testid },
    h('div', { class: 'alert-text' },
      err && err.title ? h('strong', { text: err.title + ': ' }) : null,
      h('span', { class: 'alert-message', text: message })),
    h('button', { type: 'button', class: 'alert-close', 'aria-label': 'Dismiss', onclick: () => box.remove(), text: '×' }));
  return box;
}

/**
 * dialog opens a modal with a title, body nodes and footer buttons;
 * returns {el, close}. onClose runs once however it is closed.
 */
export function dialog({ title, body = [], buttons = [], onClose, testid = 'dialog' }) {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    backdrop.remove();
    document.removeEventListener('keydown', onKey);
    if (onClose) onClose();
  };
  const onKey = (e) => { if (e.key === 'Escape') close(); };
  const box = h('div', { class: 'dialog', role: 'dialog', 'aria-modal': 'true', 'aria-label': title, 'data-testid': testid },
    h('header', { class: 'dialog-header' },
      h('h2', { text: title }),
      h('button', { type: 'button', class: 'dialog-close', 'aria-label': 'Close', onclick: close, text: '×' })),
    h('div', { class: 'dialog-body' }, body),
    h('footer', { class: 'dialog-footer' }, buttons));
  const backdrop = h('div', { class: 'dialog-backdrop', onclick: (e) => { if (e.target === backdrop) close(); } }, box);
  document.body.append(backdrop);
  document.addEventListener('keydown', onKey);
  const first = box.querySelector('.dialog-footer button, input, textarea');
  if (first) first.focus();
  return { el: box, close };
}

/** confirmDialog resolves true when the user confirms. */
export function confirmDialog(message, { title = 'Confirmation', ok = 'Ok' } = {}) {
  return new Promise((resolve) => {
    let result = false;
    const d = dialog({
      title,
      testid: 'confirm',
      body: [h('p', { text: message })],
      buttons: [
        h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'confirm-ok', text: ok, onclick: () => { result = true; d.close(); } }),
        h('button', { type: 'button', class: 'btn', 'data-testid': 'confirm-cancel', text: 'Cancel', onclick: () => d.close() }),
      ],
      onClose: () => resolve(result),
    });
  });
}

/** badge is a coloured pill for a state value. */
export function badge(value, label, tone) {
  return h('span', { class: ['badge', `badge-${tone || 'muted'}`], dataset: { value: String(value) }, text: label });
}

/** debounce delays fn until ms passed without a call. */
export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
