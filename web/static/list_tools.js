// The list view's tools over its rows: a checkbox column with select all
// (on the page) and Delete of the selection, Export CSV of the current
// search, and, where the declaration's list.purge.run(domain, what) is set
// (message history), Purge of the current search. The list
// view hooks them in with a few calls (see list_view.js); the rest lives
// here.
import { h, errorBox, confirmDialog, toast } from './dom.js';
import { orm } from './rpc.js';

/**
 * listTools: ctx is the list view's, columns the visible ones, domain()
 * and order() the current search, reload() reloads the list, errors the
 * box for errors. Returns {el (the buttons), headCell(), rowCell(rec),
 * extraCols, pageLoaded()}.
 */
export function listTools({ ctx, columns, domain, order, reload, errors }) {
  const { action, decl, fields } = ctx;
  const list = decl.list || {};
  const canDelete = Boolean(ctx.rights.unlink) && (decl.delete !== false || list.bulkDelete === true);
  const selected = new Set();
  let boxes = new Map(); // id -> checkbox of the page

  const fail = (e) => errors.append(errorBox(e, { testid: 'list-error' }));

  const deleteBtn = h('button', {
    type: 'button', class: 'btn btn-danger-outline hidden', 'data-testid': 'list-delete-selected',
    onclick: () => removeSelected(),
  });
  const exportBtn = h('button', {
    type: 'button', class: 'btn', 'data-testid': 'list-export', text: 'Export CSV',
    title: 'Download the records of this search, with the columns shown', onclick: () => exportCSV(),
  });
  const purgeBtn = list.purge && ctx.rights.unlink ? h('button', {
    type: 'button', class: 'btn btn-danger-outline', 'data-testid': 'list-purge', text: 'Purge…',
    title: 'Delete the messages of this search from the history', onclick: () => purge(),
  }) : null;
  const el = h('span', { class: 'list-tools' }, deleteBtn, exportBtn, purgeBtn);

  const all = canDelete ? h('input', {
    type: 'checkbox', 'data-testid': 'select-all', 'aria-label': 'Select all on this page',
    onchange: () => {
      for (const [id, box] of boxes) {
        box.checked = all.checked;
        if (all.checked) selected.add(id); else selected.delete(id);
      }
      update();
    },
  }) : null;

  function update() {
    const n = selected.size;
    deleteBtn.textContent = `Delete ${n} selected`;
    deleteBtn.classList.toggle('hidden', n === 0);
    if (all) {
      const onPage = [...boxes.keys()].filter((id) => selected.has(id)).length;
      all.checked = onPage > 0 && onPage === boxes.size;
      all.indeterminate = onPage > 0 && onPage < boxes.size;
    }
  }

  async function removeSelected() {
    const ids = [...selected];
    const n = ids.length;
    const what = n === 1 ? 'record' : 'records';
    const note = decl.deleteNote ? ` ${decl.deleteNote}` : '';
    if (!(await confirmDialog(`Delete ${n} selected ${what}?${note} This cannot be undone.`, { title: 'Delete', ok: `Delete ${n}` }))) return;
    try {
      await orm.unlink(action.model, ids);
      toast({ type: 'success', message: `${n} ${what} deleted.` });
      selected.clear();
      update();
      reload();
    } catch (e) {
      fail(e);
    }
  }

  async function exportCSV() {
    const exported = columns.filter((c) => fields[c].exportable !== false);
    const data = {
      model: action.model,
      fields: exported.map((c) => ({ name: c, label: fields[c].string })),
      ids: false, domain: domain(), order: order() || '', import_compat: false, context: {},
    };
    exportBtn.disabled = true;
    try {
      const res = await fetch('/web/export/csv', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ data: JSON.stringify(data) }),
      });
      if (!res.ok) {
        let err;
        try {
          const body = await res.json();
          err = Object.assign(new Error((body.data && body.data.message) || body.message), { title: 'Export failed' });
        } catch {
          err = Object.assign(new Error(`HTTP ${res.status}`), { title: 'Export failed' });
        }
        throw err;
      }
      const blob = await res.blob();
      const a = h('a', { href: URL.createObjectURL(blob), download: `${action.title}.csv`, 'data-testid': 'export-link', class: 'hidden' });
      document.body.append(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 60000);
    } catch (e) {
      fail(e);
    } finally {
      exportBtn.disabled = false;
    }
  }

  async function purge() {
    try {
      if (await list.purge.run(domain(), `matching this search on ${action.title}`) !== null) reload();
    } catch (e) {
      fail(e);
    }
  }

  return {
    el,
    extraCols: canDelete ? 1 : 0,
    headCell: () => (canDelete ? h('th', { scope: 'col', class: 'col-select' }, all) : null),
    rowCell(rec) {
      if (!canDelete) return null;
      const td = h('td', { class: 'col-select' });
      if (!rec.id) return td; // a live row: no id to act on yet
      const box = h('input', { type: 'checkbox', 'data-testid': 'select-row', 'aria-label': 'Select', checked: selected.has(rec.id) });
      box.addEventListener('click', (e) => e.stopPropagation());
      box.addEventListener('change', () => {
        if (box.checked) selected.add(rec.id); else selected.delete(rec.id);
        update();
      });
      td.addEventListener('click', (e) => { if (e.target === td) { e.stopPropagation(); box.click(); } });
      boxes.set(rec.id, box);
      td.append(box);
      return td;
    },
    // pageLoaded: a new page (or search) starts with nothing selected.
    pageLoaded() {
      boxes = new Map([...boxes].filter(([, box]) => box.isConnected));
      selected.clear();
      update();
    },
  };
}
