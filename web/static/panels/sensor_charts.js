// The device page's charts: one per numeric sensor, from
// the model's get_sensor_series (opts.method; bucketed on the server), for the range
// picked (last hour by default), live as the device's readings arrive.
import { h, replace, errorBox } from '../dom.js';
import { callKw } from '../rpc.js';
import { bus } from '../bus.js';
import { lineChart, parsePoint } from '../chart.js';

/** The range buttons: label and seconds. */
export const chartRanges = [['15 min', 900], ['1 h', 3600], ['24 h', 86400], ['7 d', 604800]];

/** readingNumber is a reading as a number, or null. */
function readingNumber(v) {
  if (v && typeof v === 'object' && 'value' in v) v = v.value;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/**
 * sensorCharts: opts {method, live: {channel, event}}; the charts reload when the
 * range changes, and a device event adds its readings.
 */
export function sensorCharts({ model, id, opts }) {
  let range = 3600;
  let charts = new Map(); // sensor -> chart
  const body = h('div', { class: 'sensor-charts-body' });
  const buttons = chartRanges.map(([label, secs]) => h('button', {
    type: 'button', class: secs === range ? 'btn btn-sm btn-primary' : 'btn btn-sm', 'data-range': String(secs), text: label,
    onclick: () => { range = secs; load(); },
  }));
  const el = h('section', { class: 'card panel', 'data-testid': 'sensor-charts' },
    h('header', { class: 'panel-header' }, h('h3', { text: 'Charts' }), h('div', { class: 'btn-group', role: 'group', 'aria-label': 'Range' }, buttons)),
    body);
  let seq = 0;
  const load = async () => {
    const mine = ++seq;
    buttons.forEach((b) => { const on = Number(b.dataset.range) === range; b.classList.toggle('btn-primary', on); b.setAttribute('aria-pressed', String(on)); });
    el.dataset.range = String(range);
    el.dataset.loading = 'true';
    try {
      const [dev] = await callKw(model, opts.method, [[id]], { range_seconds: range, max_points: 120 });
      if (mine !== seq) return;
      charts = new Map();
      const sensors = dev ? dev.sensors : [];
      if (!sensors.length) {
        replace(body, h('p', { class: 'muted', text: 'No numeric sensor readings yet.' }));
        return;
      }
      replace(body, sensors.map((sn) => {
        const c = lineChart({ unit: sn.unit, testid: `chart-${sn.sensor}` });
        const ser = sn.series;
        c.setPoints(ser.points.map(parsePoint), { start: Date.parse(ser.start.replace(' ', 'T') + 'Z'), end: Date.parse(ser.end.replace(' ', 'T') + 'Z'), interval: ser.interval });
        charts.set(sn.sensor, c);
        return h('figure', { class: 'sensor-chart', 'data-sensor': sn.sensor },
          h('figcaption', { text: sn.unit ? `${sn.sensor} (${sn.unit})` : sn.sensor }), c.el);
      }));
    } catch (e) {
      if (mine === seq) replace(body, errorBox(e));
    } finally {
      if (mine === seq) delete el.dataset.loading;
    }
  };
  load();
  const { live } = opts;
  bus.addChannel(live.channel);
  const off = bus.on(live.event, (p) => {
    if (!p || p.device_id !== id) return;
    const t = typeof p.time === 'number' ? p.time * 1000 : Date.now();
    const readings = p.sensor ? { [p.sensor]: p.value } : (p.value && typeof p.value === 'object' ? p.value : {});
    for (const [name, v] of Object.entries(readings)) {
      const n = readingNumber(v);
      if (n !== null && charts.has(name)) charts.get(name).add(t, n);
    }
  });
  return { el, destroy: off };
}
