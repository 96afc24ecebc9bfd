// A form panel with a counter of the record kept live by bus notes (a
// rule's firings): the notes of this record set the count and what came
// with it, and refresh the form (its status fields and the panels that
// list what the note is about) unless the user is editing.
import { h, replace, formatTime } from '../dom.js';
import { bus } from '../bus.js';

/**
 * liveCounter shows record[opts.count] and, on each note of type
 * opts.live.type on opts.live.channel whose opts.key (default 'id') is
 * this record's id, the note's count and its opts.details ([[key,
 * label]]). opts (the panel's declaration): {title, count, key, live
 * {channel, type}, details, label (beside the number), testid}. The
 * form reloads at most once a second on such notes while it has no
 * unsaved edits.
 */
export function liveCounter({ id, record, form, opts }) {
  const testid = opts.testid || 'live-counter';
  const key = opts.key || 'id';
  const value = h('strong', { class: 'counter-value', 'data-testid': `${testid}-value` });
  const last = h('dl', { class: 'counter-last', 'data-testid': `${testid}-last` });
  const when = h('span', { class: 'muted small', 'data-testid': `${testid}-time` });
  const setCount = (n) => {
    value.textContent = String(Number(n) || 0);
    value.dataset.value = value.textContent;
  };
  setCount(record[opts.count]);
  const el = h('section', { class: 'card panel live-panel', 'data-testid': testid },
    h('header', { class: 'panel-header' }, h('h3', {}, opts.title || 'Live', ' ', h('span', { class: 'live-dot', title: 'Live', 'aria-label': 'live' }))),
    h('p', { class: 'counter' }, value, ' ', h('span', { class: 'muted', text: opts.label || '' }), ' ', when),
    last);

  let timer = null;
  const { live } = opts;
  bus.addChannel(live.channel);
  const off = bus.on(live.type, (p) => {
    if (!p || p[key] !== id) return;
    if (opts.count in p) setCount(p[opts.count]);
    when.textContent = `last at ${formatTime(new Date())}`;
    replace(last, (opts.details || []).filter(([k]) => k in p).map(([k, label]) => [
      h('dt', { text: label }),
      h('dd', { class: 'mono', 'data-key': k, text: typeof p[k] === 'object' && p[k] !== null ? JSON.stringify(p[k]) : String(p[k]) }),
    ]));
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      if (!form.isDirty()) form.reload();
    }, 1000);
  });
  return {
    el,
    // A reload reads the stored count, which a note may be ahead of.
    update: (r) => { if (Number(r[opts.count]) > Number(value.textContent)) setCount(r[opts.count]); },
    destroy: () => {
      clearTimeout(timer);
      off();
    },
  };
}
