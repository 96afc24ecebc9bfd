// The app shell: header with the menu tree, the user and the bus status,
// hash routing (#/<action>, #/<action>/<id>, #/<action>/new, with the
// list's state in the query), and the views the routes open.
import { h, replace, errorBox, confirmDialog } from './dom.js';
import { session, orm, setUserContext } from './rpc.js';
import { bus } from './bus.js';
import { menu, actions, views, home, actionForModel } from './views/index.js';
import { listView } from './list_view.js';
import { formView } from './form_view.js';
import { fieldsOf } from './small_list.js';
import { apiKeysPage } from './apikeys.js';

const root = document.getElementById('app');
const main = h('main', { class: 'content', id: 'content', 'data-testid': 'content' });
let current = null; // the view on screen: {el, destroy, isDirty}
let info = null;
const rightsCache = new Map();
const DEFAULT_ACTION = home; // the first menu entry's action
const API_KEYS = 'my-api-keys'; // the user menu's page, not a model's action

async function start() {
  try {
    info = await session.info();
  } catch {
    return; // code 100 already sent us to the login page
  }
  setUserContext(info.user_context);
  replace(root, header(), main);
  bus.start();
  window.addEventListener('hashchange', route);
  route();
}

// --- Header and menu

function header() {
  const nav = h('nav', { class: 'menu', id: 'menu', 'aria-label': 'Main menu', 'data-testid': 'menu' },
    h('ul', { class: 'menu-root' }, menu.map((item) => menuItem(item, 0))));
  const toggle = h('button', { type: 'button', class: 'menu-toggle', 'aria-controls': 'menu', 'aria-expanded': 'false',
    'aria-label': 'Menu', 'data-testid': 'menu-toggle',
    onclick: () => {
      const open = document.body.classList.toggle('menu-open');
      toggle.setAttribute('aria-expanded', String(open));
    } }, h('span', { class: 'burger', 'aria-hidden': 'true' }));
  const busDot = h('span', { class: 'bus-status', 'data-testid': 'bus-status', title: 'Live updates' });
  bus.onStatus((status, mode) => {
    busDot.dataset.status = status;
    busDot.title = {
      open: 'Live updates: connected', polling: 'Live updates: polling (WebSocket unavailable)',
      connecting: 'Live updates: connecting…', offline: 'Live updates: reconnecting…', stopped: 'Live updates: off',
    }[status] || status;
    busDot.dataset.mode = mode;
  });
  const userMenu = h('div', { class: 'user' },
    busDot,
    h('span', { class: 'user-name', 'data-testid': 'user-name', text: info.name || info.username || '' }),
    h('a', { class: 'btn btn-sm btn-ghost', href: `#/${API_KEYS}`, 'data-testid': 'my-api-keys', text: 'My API keys' }),
    h('a', { class: 'btn btn-sm btn-ghost', href: '/doc', 'data-testid': 'api-doc', text: 'API' }),
    h('button', { type: 'button', class: 'btn btn-sm btn-ghost', 'data-testid': 'logout', name: 'logout', text: 'Log out', onclick: logout }));
  return h('header', { class: 'topbar' },
    toggle,
    h('a', { class: 'brand', href: `#/${DEFAULT_ACTION}` }, h('span', { class: 'logo', 'aria-hidden': 'true' }), h('span', { class: 'brand-text', text: document.title })),
    nav,
    userMenu);
}

function menuItem(item, depth) {
  if (item.action) {
    return h('li', { class: 'menu-leaf' },
      h('a', { href: `#/${item.action}`, class: 'menu-link', 'data-action': item.action, 'data-testid': 'menu-link', text: item.label,
        onclick: () => closeMenus() }));
  }
  const sub = h('ul', { class: ['submenu', `depth-${depth}`] }, item.children.map((c) => menuItem(c, depth + 1)));
  if (depth > 0) {
    // Nested sections are headings inside their parent's dropdown.
    return h('li', { class: 'menu-section' }, h('span', { class: 'menu-heading', text: item.label }), sub);
  }
  const btn = h('button', { type: 'button', class: 'menu-link menu-parent', 'aria-expanded': 'false', 'data-testid': 'menu-parent', text: item.label,
    onclick: (e) => {
      e.stopPropagation();
      const open = btn.getAttribute('aria-expanded') !== 'true';
      closeMenus();
      btn.setAttribute('aria-expanded', String(open));
    } });
  return h('li', { class: 'menu-item' }, btn, sub);
}

function closeMenus() {
  for (const b of document.querySelectorAll('.menu-parent[aria-expanded="true"]')) b.setAttribute('aria-expanded', 'false');
  document.body.classList.remove('menu-open');
  const t = document.querySelector('.menu-toggle');
  if (t) t.setAttribute('aria-expanded', 'false');
}
document.addEventListener('click', (e) => {
  if (!e.target.closest('.menu')) {
    for (const b of document.querySelectorAll('.menu-parent[aria-expanded="true"]')) b.setAttribute('aria-expanded', 'false');
  }
});
document.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeMenus(); });

async function logout() {
  try {
    await session.destroy();
  } finally {
    location.assign('/web/login');
  }
}

// --- Routing

/** parseHash reads #/<action>[/<id>|/new][?query]. */
export function parseHash(hash) {
  const [path, qs = ''] = hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  return { action: parts[0] || '', rec: parts[1] || '', query: new URLSearchParams(qs) };
}

let lastHash = '';
let routing = 0;
// discardPrompt is the open "Discard them?" dialog. One at a time:
// navigating again while it is open (a second menu click, Back) opened a
// second one over it; now the open one answers for the latest address.
let discardPrompt = null;

async function route() {
  if (discardPrompt && location.hash !== lastHash) return;
  if (current && current.isDirty && current.isDirty() && location.hash !== lastHash) {
    discardPrompt = confirmDialog('Your changes are not saved. Discard them?', { ok: 'Discard' });
    let discard = false;
    try {
      discard = await discardPrompt;
    } finally {
      discardPrompt = null;
    }
    if (!discard) {
      history.replaceState(history.state, '', lastHash || '#/');
      return;
    }
  }
  const hash = location.hash; // the latest navigation, if several came while the dialog was open
  lastHash = hash;
  const mine = ++routing;
  const r = parseHash(hash);
  if (!r.action) {
    location.replace(`#/${DEFAULT_ACTION}`);
    return;
  }
  markMenu(r.action);
  closeMenus();
  if (current && current.destroy) current.destroy();
  current = null;
  if (r.action === API_KEYS) {
    document.title = `My API keys · ${root.dataset.title || 'Odoo IoT MQTT'}`;
    current = apiKeysPage();
    replace(main, current.el);
    return;
  }
  const action = actions[r.action];
  if (!action) {
    replace(main, notFound(`There is no page "${r.action}".`));
    return;
  }
  document.title = `${action.title} · ${root.dataset.title || 'Odoo IoT MQTT'}`;
  main.classList.add('loading');
  try {
    const [fields, rights] = await Promise.all([fieldsOf(action.model), rightsOf(action.model)]);
    if (mine !== routing) return;
    const decl = views[action.view] || {};
    const ctx = { action, actionName: r.action, decl, fields, rights, query: r.query, navigate, actionForModel };
    if (r.rec || action.singleton) {
      const id = r.rec && r.rec !== 'new' ? Number(r.rec) : null;
      if (r.rec && r.rec !== 'new' && !Number.isInteger(id)) {
        replace(main, notFound('This record address is not valid.'));
        return;
      }
      current = formView({ ...ctx, id, defaults: defaultsFrom(r.query, fields) });
    } else {
      current = listView(ctx);
    }
    replace(main, current.el);
    window.scrollTo(0, 0);
  } catch (e) {
    if (mine === routing) replace(main, errorBox(e, { testid: 'page-error' }));
  } finally {
    if (mine === routing) main.classList.remove('loading');
  }
}

/** navigate goes to a hash; replace swaps the history entry (after a create). */
function navigate(hash, replaceEntry = false) {
  if (replaceEntry) {
    lastHash = hash;
    history.replaceState(history.state, '', hash);
    route();
  } else {
    location.hash = hash;
  }
}

// defaultsFrom reads default_<field>=<value> from a /new route's query
// (how a broker's "Add subscription" pre-fills the broker).
function defaultsFrom(query, fields) {
  const out = {};
  for (const [k, v] of query) {
    const name = k.startsWith('default_') ? k.slice(8) : '';
    const f = fields[name];
    if (!f) continue;
    if (f.type === 'many2one' || f.type === 'integer') out[name] = f.type === 'many2one' ? [Number(v), `#${v}`] : Number(v);
    else if (f.type === 'boolean') out[name] = v === 'true' || v === '1';
    else out[name] = v;
  }
  return out;
}

function markMenu(actionName) {
  for (const a of document.querySelectorAll('.menu-link[data-action]')) {
    const on = a.dataset.action === actionName;
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  for (const item of document.querySelectorAll('.menu-item')) {
    item.classList.toggle('active', Boolean(item.querySelector('.menu-link.active')));
  }
}

async function rightsOf(model) {
  if (!rightsCache.has(model)) {
    const p = Promise.all(['create', 'write', 'unlink'].map((op) => orm.canDo(model, op).catch(() => false)))
      .then(([create, write, unlink]) => ({ create, write, unlink }));
    rightsCache.set(model, p);
  }
  return rightsCache.get(model);
}

function notFound(text) {
  return h('div', { class: 'card empty', 'data-testid': 'not-found' },
    h('p', { class: 'empty-title', text: 'Page not found' }), h('p', { text }),
    h('a', { class: 'btn', href: `#/${DEFAULT_ACTION}`, text: `Back to ${actions[DEFAULT_ACTION] ? actions[DEFAULT_ACTION].title : 'the start'}` }));
}

root.dataset.title = document.title;
start();
