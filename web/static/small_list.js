// A small read-only list of related records under a form (a one2many, or
// a history of the record), with "N of M" and links to the records.
import { h, replace, errorBox } from './dom.js';
import { orm } from './rpc.js';
import { formatCell } from './fields.js';
import { freshness, noteFields, noteRecord } from './live.js';

const fieldsCache = new Map();

/** fieldsOf is fields_get of a model, fetched once per page. */
export function fieldsOf(model) {
  if (!fieldsCache.has(model)) {
    const p = orm.fieldsGet(model);
    p.catch(() => fieldsCache.delete(model));
    fieldsCache.set(model, p);
  }
  return fieldsCache.get(model);
}

/**
 * smallList renders records of model matching domain: {title, model,
 * domain, columns, widgets, limit, order, href(rec), moreHref, testid,
 * emptyText, live (prepend skips the notes already loaded)}.
 * Returns {el, reload, prepend(note)}.
 */
export function smallList(opts) {
  const limit = opts.limit || 10;
  const tbody = h('tbody');
  const thead = h('thead');
  const count = h('span', { class: 'small-list-count', 'data-testid': `${opts.testid || 'small-list'}-count` });
  const errors = h('div');
  const empty = h('p', { class: 'muted hidden', text: opts.emptyText || 'Nothing yet.' });
  const table = h('table', { class: 'table table-sm', 'data-testid': opts.testid || 'small-list' }, thead, tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const more = opts.moreHref ? h('a', { class: 'small-list-more', href: opts.moreHref, text: 'See all' }) : null;
  const el = h('section', { class: 'card panel small-list' },
    h('header', { class: 'panel-header' }, h('h3', { text: opts.title }), count, more),
    errors, wrap, empty);
  let fields = {};
  let columns = [];
  let total = 0;
  let isFresh = () => false; // until the first load: notes before it are in it

  const row = (rec, cls) => {
    const tr = h('tr', { class: ['data-row', cls], 'data-id': rec.id ? String(rec.id) : false, 'data-testid': `${opts.testid || 'small-list'}-row` },
      columns.map((c) => {
        const widget = (opts.widgets || {})[c] || (fields[c].type === 'selection' ? 'badge' : undefined);
        const node = formatCell(rec[c], fields[c], widget);
        return h('td', { 'data-field': c, class: `col-${fields[c].type}` },
          fields[c].type === 'text' || fields[c].type === 'char' ? h('span', { class: 'cell-text' }, node) : node);
      }));
    const href = opts.href && opts.href(rec);
    if (href) {
      tr.classList.add('clickable');
      tr.addEventListener('click', () => { location.hash = href; });
    }
    return tr;
  };

  const setCount = (shown) => {
    count.textContent = total > shown ? `${shown} of ${total}` : String(total);
    empty.classList.toggle('hidden', total > 0);
    wrap.classList.toggle('hidden', total === 0);
  };

  async function reload() {
    errors.replaceChildren();
    try {
      fields = await fieldsOf(opts.model);
      columns = opts.columns.filter((c) => fields[c]);
      replace(thead, h('tr', {}, columns.map((c) => h('th', { scope: 'col', text: fields[c].string }))));
      const res = await orm.webSearchRead(opts.model, opts.domain, columns, { limit, order: opts.order || false });
      if (opts.live) isFresh = freshness(await orm.searchRead(opts.model, opts.domain, noteFields, { limit: 50 }));
      total = res.length;
      replace(tbody, res.records.map((r) => row(r)));
      setCount(res.records.length);
    } catch (e) {
      errors.append(errorBox(e));
    }
  }

  /**
   * prepend adds a row at the top from a bus note (shaped by noteRecord)
   * or a record, dropping the oldest; a note already shown is skipped.
   */
  function prepend(note) {
    if (!columns.length || !isFresh(note)) return;
    const tr = row(noteRecord(note, fields), 'live-new');
    tr.setAttribute('data-testid', 'live-row');
    tbody.prepend(tr);
    while (tbody.children.length > Math.max(limit, 50)) tbody.lastElementChild.remove();
    total++;
    setCount(tbody.children.length);
    setTimeout(() => tr.classList.add('live-seen'), 2000);
  }

  reload();
  return { el, reload, prepend };
}
