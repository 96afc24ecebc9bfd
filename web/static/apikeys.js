// My API keys (#/my-api-keys, from the user menu): the user's own
// res.users.apikeys (the record rule keeps others' out) with their
// description, scope, creation and expiry, never the key; Revoke unlinks
// one; New API key calls res.users.apikeys.generate, which returns the key
// once. The keys are what JSON-2 (/json/2/<model>/<method>) and the other
// RPC dialects take.
import { h, replace, errorBox, confirmDialog, formatDatetime, toast } from './dom.js';
import { orm, callKw } from './rpc.js';

const MODEL = 'res.users.apikeys';

// Durations offered, as Odoo 19's key wizard does; the key expires at the
// end of the chosen day.
const DURATIONS = [
  ['1', '1 day'], ['7', '1 week'], ['30', '1 month'], ['90', '3 months'], ['365', '1 year'], ['', 'Never'],
];

/** expirationFor is the YYYY-MM-DD a key made now for days expires (false: never). */
export function expirationFor(days, now = new Date()) {
  if (!days) return false;
  const d = new Date(now.getTime() + Number(days) * 86400000);
  return d.toISOString().slice(0, 10);
}

export function apiKeysPage() {
  const rows = h('tbody', { 'data-testid': 'apikeys-rows' });
  const status = h('div', { class: 'apikeys-status' });
  const shown = h('div', { class: 'apikeys-new', 'data-testid': 'apikey-shown', hidden: true });
  const name = h('input', { type: 'text', name: 'apikey-name', 'data-testid': 'apikey-name', required: true, placeholder: 'What the key is for', 'aria-label': 'Description' });
  const duration = h('select', { name: 'apikey-duration', 'data-testid': 'apikey-duration', 'aria-label': 'Expires' },
    DURATIONS.map(([v, label]) => h('option', { value: v, text: label, selected: v === '30' })));
  let alive = true;

  async function load() {
    try {
      const keys = await orm.searchRead(MODEL, [], ['name', 'scope', 'create_date', 'expiration_date'], { order: 'id' });
      if (!alive) return;
      replace(rows, keys.length ? keys.map(row) : h('tr', {}, h('td', { colspan: 5, class: 'muted', text: 'No API key yet.' })));
      replace(status);
    } catch (e) {
      if (alive) replace(status, errorBox(e));
    }
  }

  function row(k) {
    return h('tr', { 'data-testid': 'apikey-row', dataset: { id: String(k.id) } },
      h('td', { 'data-testid': 'apikey-row-name', text: k.name }),
      h('td', { text: k.scope || 'rpc (any)' }),
      h('td', { text: k.create_date ? formatDatetime(k.create_date) : '' }),
      h('td', { text: k.expiration_date ? formatDatetime(k.expiration_date) : 'Never' }),
      h('td', {}, h('button', { type: 'button', class: 'btn btn-sm btn-danger', 'data-testid': 'apikey-revoke', text: 'Revoke',
        onclick: async () => {
          if (!(await confirmDialog(`Revoke the API key "${k.name}"? Scripts using it stop working at once.`, { ok: 'Revoke' }))) return;
          try {
            await orm.unlink(MODEL, [k.id]);
            toast({ title: 'API key revoked', message: k.name, type: 'success' });
          } catch (e) {
            replace(status, errorBox(e));
          }
          load();
        } })));
  }

  async function generate(e) {
    e.preventDefault();
    const description = name.value.trim();
    if (!description) {
      name.focus();
      return;
    }
    try {
      const key = await callKw(MODEL, 'generate', [description, false, expirationFor(duration.value)]);
      shown.hidden = false;
      replace(shown,
        h('p', { text: 'Here is your new API key. Copy it now: it is not stored and will not be shown again.' }),
        h('code', { class: 'apikey-value', 'data-testid': 'apikey-value', text: key }),
        h('p', { class: 'muted', text: 'Send it as "Authorization: bearer <key>" to POST /json/2/<model>/<method>, or as the password of XML-RPC and JSON-RPC calls.' }));
      name.value = '';
      load();
    } catch (err) {
      replace(status, errorBox(err));
    }
  }

  const el = h('section', { class: 'apikeys-page', 'data-testid': 'apikeys-page' },
    h('h1', { text: 'My API keys' }),
    h('p', {}, 'API keys let scripts call this server as you. The calls they may make are listed in the ',
      h('a', { href: '/doc', text: 'API documentation' }), '.'),
    h('form', { class: 'apikeys-form', 'data-testid': 'apikey-form', onsubmit: generate },
      h('label', {}, 'Description ', name),
      h('label', {}, 'Expires ', duration),
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'apikey-generate', text: 'New API key' })),
    shown,
    status,
    h('table', { class: 'list apikeys-list' },
      h('thead', {}, h('tr', {}, ['Description', 'Scope', 'Created', 'Expires', ''].map((t) => h('th', { text: t })))),
      rows));
  load();
  return { el, destroy: () => { alive = false; } };
}
