// A form panel with the latest records of another model that point to
// this one, prepending new ones as their bus notes arrive (a broker's or
// a signal's messages).
import { h } from '../dom.js';
import { bus } from '../bus.js';
import { smallList } from '../small_list.js';

/**
 * liveList lists the records of opts.model whose opts.field is this
 * record and prepends the notes opts.live {channel, type} whose field is
 * this record's id. opts (the panel's declaration): {title, model,
 * field, columns, widgets, limit, testid, emptyText, href(row),
 * moreHref(record), live, liveDot (marks the panel live), reloadOn
 * {channel, type}: a note of this record reloads the form (unless the
 * user is editing)}.
 */
export function liveList({ id, record, form, opts }) {
  const list = smallList({
    title: opts.title, model: opts.model, domain: [[opts.field, '=', id]],
    columns: opts.columns, widgets: opts.widgets,
    limit: opts.limit, live: true, testid: opts.testid, emptyText: opts.emptyText,
    href: opts.href, moreHref: opts.moreHref ? opts.moreHref(record) : undefined,
  });
  if (opts.liveDot) {
    list.el.classList.add('live-panel');
    list.el.querySelector('.panel-header h3').append(h('span', { class: 'live-dot', title: 'Live', 'aria-label': 'live' }));
  }
  const { live, reloadOn } = opts;
  bus.addChannel(live.channel, ...(reloadOn ? [reloadOn.channel] : []));
  const offs = [
    bus.on(live.type, (p) => {
      if (p && p[opts.field] === id) list.prepend(p);
    }),
  ];
  if (reloadOn) {
    offs.push(bus.on(reloadOn.type, (p) => {
      if (p && p[opts.field] === id && !form.isDirty()) form.reload();
    }));
  }
  return { el: list.el, destroy: () => offs.forEach((off) => off()) };
}
