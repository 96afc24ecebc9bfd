// Login page: pick the database (from /web/database/list when the server
// lists them), POST /web/session/authenticate, then go to the app.
import { h, replace } from './dom.js';
import { session, onSessionExpired } from './rpc.js';

onSessionExpired(() => {}); // we are on the login page already

const root = document.getElementById('login');

// redirectTarget is where to go after login: a same-origin /web path or the
// API documentation (/doc) only,
// so the parameter cannot send the user elsewhere.
function redirectTarget() {
  const r = new URLSearchParams(location.search).get('redirect') || '';
  return /^\/web(#.*)?$/.test(r) || r === '/doc' ? r : '/web';
}

async function main() {
  try {
    // Already logged in: straight to the app, as Odoo's /web/login does.
    if ((await session.info()).uid) {
      location.replace(redirectTarget());
      return;
    }
  } catch {
    // not logged in: show the form
  }
  let dbs = [];
  try {
    dbs = await session.databases();
  } catch {
    dbs = []; // listing is off: ask for the name
  }
  const error = h('div', { class: 'login-error', role: 'alert', 'aria-live': 'assertive', 'data-testid': 'login-error' });
  const dbField = dbs.length > 1
    ? h('select', { name: 'db', id: 'login-db', required: true }, dbs.map((d) => h('option', { value: d, text: d })))
    : h('input', { name: 'db', id: 'login-db', type: 'text', required: true, value: dbs[0] || '', autocomplete: 'off' });
  const login = h('input', { name: 'login', id: 'login-login', type: 'text', required: true, autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' });
  const password = h('input', { name: 'password', id: 'login-password', type: 'password', autocomplete: 'current-password' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', name: 'submit', 'data-testid': 'login-submit', text: 'Log in' });
  const form = h('form', { class: 'login-form', novalidate: true, 'data-testid': 'login-form' },
    h('div', { class: ['field', dbs.length === 1 ? 'hidden' : ''] },
      h('label', { for: 'login-db', text: 'Database' }), dbField),
    h('div', { class: 'field' }, h('label', { for: 'login-login', text: 'Login' }), login),
    h('div', { class: 'field' }, h('label', { for: 'login-password', text: 'Password' }), password),
    error,
    submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    if (!login.value) {
      error.textContent = 'Enter your login.';
      login.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Logging in…';
    try {
      const info = await session.authenticate(dbField.value, login.value, password.value);
      if (!info || !info.uid) throw new Error('This account needs another login method.');
      location.replace(redirectTarget());
    } catch (e) {
      error.textContent = e.message === 'Access Denied' ? 'Wrong login/password' : e.message;
      submit.disabled = false;
      submit.textContent = 'Log in';
      password.select();
    }
  });
  replace(root,
    h('div', { class: 'login-card card' },
      h('div', { class: 'login-brand' },
        h('span', { class: 'logo', 'aria-hidden': 'true' }),
        h('h1', { text: document.title.replace(/^Log in · /, '') })),
      form));
  login.focus();
}

main();
