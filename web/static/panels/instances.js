// The instances panel (the Service page's): the live server instances
// from the model's method (a cluster's on PostgreSQL, this one alone on
// SQLite), refreshed every few seconds like the listener registry.
import { h, replace, errorBox, formatDatetime, parseUTC, relativeTime } from '../dom.js';
import { callKw } from '../rpc.js';

const REFRESH = 5000;

/**
 * instancesPanel shows the rows opts.method (an @api.model method of the
 * form's model) returns, one per instance: {id, host, pid, started,
 * heartbeat, brokers, self}.
 */
export function instancesPanel({ model, opts }) {
  const tbody = h('tbody');
  const errors = h('div');
  const table = h('table', { class: 'table table-sm', 'data-testid': 'instances-table' },
    h('thead', {}, h('tr', {}, ['Instance', 'Host', 'PID', 'Started', 'Last heartbeat', 'Brokers']
      .map((t) => h('th', { scope: 'col', class: ['PID', 'Brokers'].includes(t) ? 'num' : false, text: t })))),
    tbody);
  const el = h('section', { class: 'card panel', 'data-testid': 'instances-panel' },
    h('header', { class: 'panel-header' }, h('h3', { text: 'Instances' })),
    errors, h('div', { class: 'table-wrap' }, table));

  // A time cell: relative, the exact time as its title.
  const timeCell = (s) => {
    const d = parseUTC(s);
    return h('td', { title: d ? formatDatetime(s) : false, text: d ? relativeTime(d) : '' });
  };

  function rowOf(r) {
    return h('tr', { 'data-testid': 'instance-row', 'data-instance-id': String(r.id), 'data-self': r.self ? 'true' : 'false' },
      h('td', {}, r.id ? `#${r.id}` : 'alone', r.self ? h('small', { class: 'muted', text: ' (this instance)' }) : null),
      h('td', { 'data-field': 'host', text: r.host }),
      h('td', { class: 'num', 'data-field': 'pid', text: String(r.pid) }),
      timeCell(r.started),
      timeCell(r.heartbeat),
      h('td', { class: 'num', 'data-field': 'brokers', text: String(r.brokers ?? 0) }));
  }

  async function refresh() {
    try {
      const rows = await callKw(model, opts.method, []);
      errors.replaceChildren();
      replace(tbody, rows.map(rowOf));
    } catch (e) {
      replace(errors, errorBox(e));
    }
  }

  const timer = setInterval(refresh, REFRESH);
  refresh();
  return {
    el,
    update: () => refresh(),
    destroy() {
      clearInterval(timer);
    },
  };
}
