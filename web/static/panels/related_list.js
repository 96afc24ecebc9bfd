// A form panel listing the records of another model that point to this
// one (a one2many shown as a small list), with a link to add one.
import { h } from '../dom.js';
import { smallList } from '../small_list.js';

/**
 * relatedList lists the records of opts.model whose opts.field is this
 * record. opts (the panel's declaration): {title, model, field, columns,
 * widgets, limit, order, testid, emptyText, action (opens the rows; with
 * add, also creates one: #/<action>/new?default_<field>=<id>), add:
 * {testid, label}}.
 */
export function relatedList({ id, opts }) {
  const list = smallList({
    title: opts.title, model: opts.model, domain: [[opts.field, '=', id]],
    columns: opts.columns, widgets: opts.widgets,
    limit: opts.limit, order: opts.order, testid: opts.testid, emptyText: opts.emptyText,
    href: opts.action ? (r) => `#/${opts.action}/${r.id}` : undefined,
  });
  if (opts.add && opts.action) {
    list.el.querySelector('.panel-header').append(
      h('a', { class: 'btn btn-sm', href: `#/${opts.action}/new?default_${opts.field}=${id}`, 'data-testid': opts.add.testid, text: opts.add.label || 'Add' }));
  }
  return { el: list.el, update: () => list.reload() };
}
