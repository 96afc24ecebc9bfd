// A small SVG line chart of bucketed series (get_series' points): the
// average as a line, the min/max band behind it, a y axis with its
// bounds, a time axis, and a tooltip per point. Our own rather than a
// library: the pages have no build step and need one kind of chart.
// chart.setPoints replaces the series; chart.add folds a live value into
// the last bucket or a new one, dropping buckets that left the window.

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** parsePoint turns a get_series point into {t (ms), count, min, max, avg}. */
export function parsePoint(p) {
  return { t: Date.parse(p.time.replace(' ', 'T') + 'Z'), count: p.count, min: p.min, max: p.max, avg: p.avg };
}

/** niceNumber renders an axis value without float noise. */
function niceNumber(v) {
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v)) : String(Number(v.toPrecision(4)));
}

function timeLabel(ms, span) {
  const d = new Date(ms);
  const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return span > 86400e3 ? `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${hm}` : hm;
}

/**
 * lineChart returns {el, setPoints(points, {start, end, interval}), add(timeMs, value)}.
 * start, end are ms; interval seconds per bucket.
 */
export function lineChart({ width = 560, height = 180, unit = '', testid = 'chart' } = {}) {
  const pad = { l: 48, r: 10, t: 10, b: 22 };
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'data-testid': testid, width: '100%' });
  let points = [];
  let win = { start: 0, end: 1, interval: 60 };

  const render = () => {
    svg.replaceChildren();
    svg.dataset.points = String(points.length);
    svg.dataset.count = String(points.reduce((n, p) => n + p.count, 0));
    const iw = width - pad.l - pad.r;
    const ih = height - pad.t - pad.b;
    let lo = Math.min(...points.map((p) => p.min));
    let hi = Math.max(...points.map((p) => p.max));
    if (!points.length) { lo = 0; hi = 1; }
    if (lo === hi) { lo -= 1; hi += 1; }
    const span = Math.max(1, win.end - win.start);
    const x = (t) => pad.l + ((t - win.start) / span) * iw;
    const y = (v) => pad.t + (1 - (v - lo) / (hi - lo)) * ih;
    const axis = s('g', { class: 'chart-axis', stroke: 'currentColor', 'stroke-opacity': 0.4, 'font-size': 10, fill: 'currentColor' });
    axis.append(
      s('line', { x1: pad.l, y1: pad.t, x2: pad.l, y2: pad.t + ih }),
      s('line', { x1: pad.l, y1: pad.t + ih, x2: pad.l + iw, y2: pad.t + ih }),
      s('text', { x: pad.l - 4, y: pad.t + 8, 'text-anchor': 'end', 'data-testid': 'chart-ymax' }, niceNumber(hi) + (unit ? ` ${unit}` : '')),
      s('text', { x: pad.l - 4, y: pad.t + ih, 'text-anchor': 'end', 'data-testid': 'chart-ymin' }, niceNumber(lo)),
      s('text', { x: pad.l, y: height - 6, 'text-anchor': 'start' }, timeLabel(win.start, span)),
      s('text', { x: pad.l + iw, y: height - 6, 'text-anchor': 'end' }, timeLabel(win.end, span)),
    );
    svg.append(axis);
    if (!points.length) {
      svg.append(s('text', { x: pad.l + iw / 2, y: pad.t + ih / 2, 'text-anchor': 'middle', class: 'chart-empty', fill: 'currentColor', 'fill-opacity': 0.6, 'font-size': 12 }, 'No numeric values in this range.'));
      return;
    }
    const half = (win.interval * 1000) / 2; // a bucket is drawn at its middle
    const band = points.map((p) => `${x(p.t + half)},${y(p.max)}`).concat(points.slice().reverse().map((p) => `${x(p.t + half)},${y(p.min)}`));
    svg.append(s('polygon', { class: 'chart-band', fill: 'var(--accent, #3b82f6)', 'fill-opacity': 0.15, stroke: 'none', points: band.join(' ') }));
    svg.append(s('polyline', { class: 'chart-line', fill: 'none', stroke: 'var(--accent, #3b82f6)', 'stroke-width': 1.5, points: points.map((p) => `${x(p.t + half)},${y(p.avg)}`).join(' ') }));
    const dots = s('g', { class: 'chart-dots', fill: 'var(--accent, #3b82f6)' });
    for (const p of points) {
      const c = s('circle', { cx: x(p.t + half), cy: y(p.avg), r: points.length > 80 ? 1.5 : 2.5, 'data-testid': 'chart-point' });
      c.append(s('title', {}, `${new Date(p.t).toLocaleString()}: avg ${niceNumber(p.avg)}, min ${niceNumber(p.min)}, max ${niceNumber(p.max)} (${p.count})`));
      dots.append(c);
    }
    svg.append(dots);
  };

  render();
  return {
    el: svg,
    get points() { return points; },
    setPoints(list, w) {
      win = { ...w };
      points = list.slice();
      render();
    },
    add(t, value) {
      if (typeof value !== 'number' || !Number.isFinite(value)) return;
      const iv = win.interval * 1000;
      const b = Math.floor(t / iv) * iv;
      const last = points[points.length - 1];
      if (last && last.t === b) {
        last.min = Math.min(last.min, value);
        last.max = Math.max(last.max, value);
        last.avg = (last.avg * last.count + value) / (last.count + 1);
        last.count += 1;
      } else if (!last || b > last.t) {
        points.push({ t: b, count: 1, min: value, max: value, avg: value });
      } else {
        return; // older than the last bucket: the next reload has it
      }
      const span = win.end - win.start;
      if (t >= win.end) {
        win.end = b + iv;
        win.start = win.end - span;
      }
      points = points.filter((p) => p.t + iv > win.start);
      render();
    },
  };
}
