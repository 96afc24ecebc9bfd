// A message's topic charted on its history form: the numbers its
// payloads carry (or the one at a JSON path) over the range picked, from
// the model's get_series (opts.method), bucketed on the server.
import { h, replace, errorBox, debounce } from '../dom.js';
import { callKw, orm } from '../rpc.js';
import { lineChart, parsePoint } from '../chart.js';
import { chartRanges } from './sensor_charts.js';

const utc = (s) => Date.parse(s.replace(' ', 'T') + 'Z');

/** guessPath is the first numeric key of a JSON object payload, or ''. */
function guessPath(payload) {
  try {
    const v = JSON.parse(payload);
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      if (typeof v.value === 'number') return 'value';
      const k = Object.keys(v).find((key) => typeof v[key] === 'number');
      return k || '';
    }
  } catch {
    // not JSON: the payload itself
  }
  return '';
}

const MAX_PATHS = 40;

/**
 * numericPaths are the JSON paths of the numbers in a payload, in
 * document order ("temperature", "ENERGY.Power", "sensors[0].value"), at
 * most MAX_PATHS; none for a payload that is not JSON.
 */
export function numericPaths(payload) {
  let doc;
  try {
    doc = JSON.parse(payload);
  } catch {
    return [];
  }
  const out = [];
  const walk = (v, path, depth) => {
    if (out.length >= MAX_PATHS || depth > 8) return;
    if (typeof v === 'number') {
      if (path) out.push(path);
    } else if (Array.isArray(v)) {
      v.slice(0, 10).forEach((x, i) => walk(x, `${path}[${i}]`, depth + 1));
    } else if (v && typeof v === 'object') {
      // Keys the path syntax cannot spell are left out.
      Object.keys(v).filter((k) => k && !/[.[\]]/.test(k)).forEach((k) => walk(v[k], path ? `${path}.${k}` : k, depth + 1));
    }
  };
  walk(doc, '', 0);
  return out;
}

let pickers = 0; // each path picker's datalist has an id of its own

/**
 * historyChart charts a topic: opts {method, domain (the messages to
 * chart; default the record's topic, direction and broker, in a range
 * ending at its time)}. The JSON path input suggests the numeric paths
 * of the record's payload.
 */
export function historyChart({ model, record, opts }) {
  let range = 3600;
  const chart = lineChart({ width: 1100, height: 240, testid: 'history-chart' }); // a wide panel: keeps the text small
  const status = h('p', { class: 'muted small', 'data-testid': 'history-chart-status' });
  const listId = `history-chart-paths-${++pickers}`;
  const suggestions = h('datalist', { id: listId, 'data-testid': 'history-chart-paths' });
  const suggest = (payload) => replace(suggestions, numericPaths(payload || '').map((p) => h('option', { value: p })));
  suggest(record.payload);
  const path = h('input', { class: 'input mono', 'aria-label': 'JSON path', placeholder: 'JSON path, e.g. value or $.sensors[0].value',
    list: listId, 'data-testid': 'history-chart-path', value: guessPath(record.payload || '') });
  const buttons = chartRanges.map(([label, secs]) => h('button', {
    type: 'button', class: secs === range ? 'btn btn-sm btn-primary' : 'btn btn-sm', 'data-range': String(secs), text: label,
    onclick: () => { range = secs; load(); },
  }));
  const el = h('section', { class: 'card panel', 'data-testid': 'history-chart-panel' },
    h('header', { class: 'panel-header' }, h('h3', { text: 'Topic chart' }), h('div', { class: 'btn-group', role: 'group', 'aria-label': 'Range' }, buttons)),
    path, suggestions, chart.el, status);
  let seq = 0;
  let rec = record;
  const load = async () => {
    const mine = ++seq;
    buttons.forEach((b) => { const on = Number(b.dataset.range) === range; b.classList.toggle('btn-primary', on); b.setAttribute('aria-pressed', String(on)); });
    el.dataset.loading = 'true';
    const m2o = (v) => (Array.isArray(v) ? v[0] : v);
    // The range ends at the message's time, so an old message shows its own context.
    const domain = opts.domain ? [...opts.domain] : [['topic', '=', rec.topic || ''], ['direction', '=', rec.direction || 'receive']];
    if (!opts.domain && m2o(rec.broker_id)) domain.push(['broker_id', '=', m2o(rec.broker_id)]);
    const end = rec.timestamp ? new Date(utc(rec.timestamp) + 1000 + range * 500) : new Date();
    const fmt = (d) => d.toISOString().slice(0, 19).replace('T', ' ');
    try {
      const s = await callKw(model, opts.method, [], {
        domain, json_path: path.value.trim() || false, range_seconds: range, end: fmt(end), max_points: 120,
      });
      if (mine !== seq) return;
      chart.setPoints(s.points.map(parsePoint), { start: utc(s.start), end: utc(s.end), interval: s.interval });
      status.textContent = `${s.points.reduce((n, p) => n + p.count, 0)} values, ${s.skipped} without a number; ${s.interval} s per point.`;
    } catch (e) {
      if (mine === seq) replace(status, errorBox(e, { testid: 'history-chart-error' }));
    } finally {
      if (mine === seq) delete el.dataset.loading;
    }
  };
  path.addEventListener('input', debounce(load, 400));
  load();
  return { el, update: (r) => { rec = r; suggest(r.payload); load(); } };
}

/**
 * TopicGroupChart is what a history list declares in list.groupPanels
 * for its topic groups: the group's Chart button opens (open) the chart
 * of the group's messages up to now, its path guessed and suggested from
 * the newest payload. A class, so that its method is no own property
 * (the view snapshot calls the functions of a declaration).
 */
class TopicGroupChart {
  get label() { return 'Chart'; }

  open({ model, domain }) {
    const el = h('div', { class: 'group-chart', 'data-testid': 'group-chart' });
    let panel = null;
    orm.searchRead(model, domain, ['topic', 'payload', 'direction', 'broker_id'], { limit: 1, order: 'timestamp desc, id desc' })
      .then((rows) => {
        const latest = rows[0] || { topic: '', payload: '' };
        // No timestamp: the range ends now.
        panel = historyChart({ model, record: { ...latest, timestamp: false }, opts: { method: 'get_series', domain } });
        replace(el, panel.el);
      })
      .catch((e) => replace(el, errorBox(e, { testid: 'history-chart-error' })));
    return { el };
  }
}
export const topicGroupChart = new TopicGroupChart();
