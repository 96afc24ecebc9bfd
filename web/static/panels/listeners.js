// The listener registry panel (the Service page's): one row per broker
// daemon from the model's status method, refreshed on the declared bus
// notes and every few seconds.
import { h, replace, errorBox, badge, formatDatetime, parseUTC, relativeTime, debounce } from '../dom.js';
import { callKw } from '../rpc.js';
import { bus } from '../bus.js';
import { toneOf } from '../fields.js';

const REFRESH = 5000;

/**
 * listenerRegistry shows the rows opts.method (an @api.model method of
 * the form's model) returns, one per broker daemon. opts (the panel's
 * declaration): {method, checkMethod (run when the daemons' states
 * change, before the form reloads), brokerAction (opens a row's broker),
 * refreshOn {channel, type}}.
 */
export function listenerRegistry({ model, form, opts }) {
  const tbody = h('tbody');
  const errors = h('div');
  const updated = h('span', { class: 'muted small', 'data-testid': 'listener-updated' });
  const empty = h('p', { class: 'muted hidden', 'data-testid': 'listener-empty', text: 'No listener is running. Start the service to connect to the active brokers.' });
  const table = h('table', { class: 'table table-sm', 'data-testid': 'listener-table' },
    h('thead', {}, h('tr', {}, ['Broker', 'State', 'Owner', 'Since', 'Attempts', 'Next retry', 'Last error', 'In', 'Out']
      .map((t) => h('th', { scope: 'col', class: ['In', 'Out', 'Attempts'].includes(t) ? 'num' : false, text: t })))),
    tbody);
  const el = h('section', { class: 'card panel', 'data-testid': 'listener-registry' },
    h('header', { class: 'panel-header' }, h('h3', { text: 'Listeners' }), updated,
      h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'listener-refresh', text: 'Refresh', onclick: () => refresh() })),
    errors, h('div', { class: 'table-wrap' }, table), empty);

  // A row's broker, linked to its form.
  const brokerCell = ([bid, name]) => (opts.brokerAction
    ? h('a', { href: `#/${opts.brokerAction}/${bid}`, text: String(name) })
    : document.createTextNode(String(name)));

  // A row's owner: the instance running its daemon (host:pid) and since
  // when; "none" while no live instance does.
  const ownerCell = (o) => {
    if (!o) return h('td', { 'data-field': 'owner', class: 'muted', text: 'none' });
    const since = parseUTC(o.since);
    return h('td', { 'data-field': 'owner', 'data-owner-id': String(o.id), 'data-self': o.self ? 'true' : 'false' },
      `${o.host}:${o.pid}`, o.self ? h('small', { class: 'muted', text: ' (this instance)' }) : null,
      since ? h('small', { class: 'muted block', title: formatDatetime(o.since), text: `since ${relativeTime(since)}` }) : null);
  };

  let lastStates = null;
  async function refresh() {
    try {
      const rows = await callKw(model, opts.method, []);
      errors.replaceChildren();
      replace(tbody, rows.map(rowOf));
      empty.classList.toggle('hidden', rows.length > 0);
      table.classList.toggle('hidden', rows.length === 0);
      updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
      // The record's status fields are written by opts.checkMethod (the
      // addon's status check): run it when the daemons' states change,
      // then show the refreshed record.
      const states = rows.map((r) => r.state).join(',');
      if (states !== lastStates) {
        lastStates = states;
        if (opts.checkMethod) await callKw(model, opts.checkMethod, []).catch(() => {});
        if (!form.isDirty()) form.reload();
      }
    } catch (e) {
      replace(errors, errorBox(e));
    }
  }

  function rowOf(r) {
    const since = parseUTC(r.since);
    const next = parseUTC(r.next_retry);
    return h('tr', { 'data-testid': 'listener-row', 'data-broker-id': Array.isArray(r.broker_id) ? String(r.broker_id[0]) : '', 'data-state': r.state },
      h('td', {}, Array.isArray(r.broker_id) ? brokerCell(r.broker_id) : ''),
      h('td', {}, badge(r.state, r.state, toneOf(r.state)), r.stop_reason ? h('small', { class: 'muted block', text: r.stop_reason }) : null),
      ownerCell(r.owner),
      h('td', { title: since ? formatDatetime(r.since) : false, text: since ? relativeTime(since) : '' }),
      h('td', { class: 'num', text: String(r.attempts ?? '') }),
      h('td', { title: next ? formatDatetime(r.next_retry) : false, text: next ? relativeTime(next) : '' }),
      h('td', { class: 'cell-error' }, r.last_error ? h('span', { class: 'cell-text text-danger', title: r.last_error, text: r.last_error }) : ''),
      h('td', { class: 'num', 'data-field': 'messages_in', text: String(r.messages_in ?? 0) }),
      h('td', { class: 'num', 'data-field': 'messages_out', text: String(r.messages_out ?? 0) }));
  }

  bus.addChannel(opts.refreshOn.channel);
  const soon = debounce(refresh, 300);
  const off = bus.on(opts.refreshOn.type, soon);
  const timer = setInterval(refresh, REFRESH);
  refresh();
  return {
    el,
    update: () => refresh(),
    destroy() {
      off();
      clearInterval(timer);
    },
  };
}
