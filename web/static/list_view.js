// The generic list view: columns from the view declaration (those
// fields_get knows), sortable headers, a search box and filters that
// become a domain, group-by with read_group counts, paging with a record
// count, and, for actions that declare live, rows arriving from the bus.
import { h, replace, errorBox, debounce } from './dom.js';
import { orm } from './rpc.js';
import { and, searchDomain, filterDomain } from './domain.js';
import { formatCell, selectionLabel } from './fields.js';
import { bus } from './bus.js';
import { freshness, noteFields, noteRecord } from './live.js';
import { listTools } from './list_tools.js';
import { pinnedFrom, pinnedDomain, pinnedMatch, pinnedParams, pinnedChips } from './pinned.js';

const LIMIT = 80;
const LIVE_MAX = LIMIT; // a live first page keeps its size: the oldest rows go

/**
 * listView renders the list of an action. ctx: {action, actionName, decl
 * (the model's view declaration), fields (fields_get), query
 * (URLSearchParams of the route), rights {create}, navigate(hash)}.
 * Returns {el, destroy}.
 *
 * The action's live {channel, type, match(note), key} prepends the bus
 * notes of that type that match (see live.js) as rows; a live row has no
 * id, so opening it searches the action's records with the note's key
 * fields. refreshOn {channel, type} reloads the list on such a note.
 */
export function listView(ctx) {
  const { action, decl, fields } = ctx;
  const list = decl.list || {};
  const columns = (list.columns || []).filter((c) => fields[c]);
  const searchFields = (list.search || []).filter((c) => fields[c]);
  const filters = list.filters || [];
  const groupBys = (list.groupBy || []).filter((g) => fields[g.split(':')[0]]);
  const widgets = list.widgets || {};

  // State lives in the route's query, so reload and back keep it.
  const q = ctx.query;
  const state = {
    search: q.get('q') || '',
    active: new Set((q.get('f') || '').split(',').filter((n) => filters.some((f) => f.name === n))),
    groupBy: groupBys.includes(q.get('g')) ? q.get('g') : '',
    order: q.get('o') || '',
    offset: Math.max(0, Number(q.get('p') || 1) - 1) * LIMIT,
  };
  let pins = pinnedFrom(q, fields); // eq.<field>=<value> (pinned.js)
  let total = 0;
  let seq = 0; // drops answers of superseded loads
  let liveSince = 0; // the newest id of the action when the list loaded
  let isFresh = () => false; // set by each load: notes before it are in it
  const offs = [];

  const saveState = () => {
    const p = new URLSearchParams();
    if (state.search) p.set('q', state.search);
    if (state.active.size) p.set('f', [...state.active].join(','));
    if (state.groupBy) p.set('g', state.groupBy);
    if (state.order) p.set('o', state.order);
    if (state.offset) p.set('p', String(state.offset / LIMIT + 1));
    pinnedParams(pins, p);
    const qs = p.toString();
    history.replaceState(history.state, '', `#/${ctx.actionName}${qs ? '?' + qs : ''}`);
  };

  const domain = () => and([action.domain || [], pinnedDomain(pins), searchDomain(state.search, searchFields), filterDomain(filters, state.active)]);

  // --- Control panel
  const searchInput = h('input', {
    type: 'search', name: 'search', class: 'input search-input', 'data-testid': 'search-input',
    placeholder: searchFields.length ? `Search ${searchFields.map((f) => fields[f].string).join(', ')}…` : 'Search…',
    'aria-label': 'Search', value: state.search, disabled: !searchFields.length,
  });
  const runSearch = debounce(() => {
    state.search = searchInput.value;
    state.offset = 0;
    load();
  }, 300);
  searchInput.addEventListener('input', runSearch);
  searchInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') { state.search = searchInput.value; state.offset = 0; load(); } });

  const filterButtons = filters.map((f) => {
    const b = h('button', {
      type: 'button', class: 'btn btn-chip', 'data-testid': 'filter', 'data-filter': f.name,
      'aria-pressed': state.active.has(f.name) ? 'true' : 'false', text: f.label,
      onclick: () => {
        if (state.active.has(f.name)) state.active.delete(f.name);
        else state.active.add(f.name);
        b.setAttribute('aria-pressed', state.active.has(f.name) ? 'true' : 'false');
        state.offset = 0;
        load();
      },
    });
    return b;
  });

  const groupSelect = groupBys.length ? h('select', {
    name: 'groupby', class: 'input input-sm', 'data-testid': 'groupby', 'aria-label': 'Group by',
    onchange: () => { state.groupBy = groupSelect.value; state.offset = 0; load(); },
  },
  h('option', { value: '', text: 'Group by…' }),
  groupBys.map((g) => {
    const [name, interval] = g.split(':');
    return h('option', { value: g, text: fields[name].string + (interval ? ` (${interval})` : '') });
  })) : null;
  if (groupSelect) groupSelect.value = state.groupBy;

  const pagerValue = h('span', { class: 'pager-value', 'data-testid': 'pager-value' });
  const pagerTotal = h('span', { class: 'pager-total', 'data-testid': 'pager-total' });
  const prev = h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': 'Previous page', 'data-testid': 'pager-prev', text: '‹',
    onclick: () => { state.offset = Math.max(0, state.offset - LIMIT); load(); } });
  const next = h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': 'Next page', 'data-testid': 'pager-next', text: '›',
    onclick: () => { state.offset += LIMIT; load(); } });
  const pager = h('div', { class: 'pager', 'data-testid': 'pager' }, h('span', { class: 'pager-text' }, pagerValue, ' / ', pagerTotal), prev, next);

  const createBtn = decl.create !== false && ctx.rights.create
    ? h('a', { class: 'btn btn-primary', href: `#/${ctx.actionName}/new`, 'data-testid': 'list-create', text: 'New' })
    : null;

  const pinBox = h('div', { class: 'cp-filters', role: 'group', 'aria-label': 'Pinned filters' });
  const renderPins = () => pinBox.replaceChildren(...pinnedChips(pins, (pin) => {
    pins = pins.filter((x) => x !== pin);
    renderPins();
    state.offset = 0;
    load();
  }));
  renderPins();

  const liveBanner = h('button', { type: 'button', class: 'live-banner hidden', 'data-testid': 'live-banner',
    onclick: () => { state.offset = 0; load(); } });
  const errors = h('div', { class: 'errors' });
  // Selection, bulk delete, CSV export, purge (list_tools.js).
  const tools = listTools({ ctx, columns, domain, order: () => state.order, reload: () => load(), errors });

  // --- Table
  const thead = h('thead');
  const tbody = h('tbody');
  const table = h('table', { class: 'table', 'data-testid': 'list-table' }, thead, tbody);
  const empty = h('div', { class: 'empty hidden', 'data-testid': 'list-empty' },
    h('p', { class: 'empty-title', text: `No ${action.title.toLowerCase()} yet` }),
    createBtn ? h('p', { text: 'Click New to create one.' }) : null);

  const el = h('section', { class: 'view list-view', 'data-testid': 'list-view', 'data-model': action.model, 'data-action': ctx.actionName },
    h('div', { class: 'control-panel card' },
      h('div', { class: 'cp-top' },
        h('h1', { class: 'view-title', text: action.title }),
        h('div', { class: 'cp-actions' }, tools.el, createBtn)),
      h('div', { class: 'cp-bottom' },
        h('div', { class: 'cp-search' }, searchInput),
        pinBox,
        filterButtons.length ? h('div', { class: 'cp-filters', role: 'group', 'aria-label': 'Filters' }, filterButtons) : null,
        groupSelect,
        pager)),
    errors,
    liveBanner,
    h('div', { class: 'card table-card' }, h('div', { class: 'table-wrap' }, table), empty));

  const orderOf = (name) => {
    const [f, dir] = state.order.split(' ');
    return f === name ? (dir === 'desc' ? 'descending' : 'ascending') : 'none';
  };

  function renderHead() {
    replace(thead, h('tr', {}, tools.headCell(), columns.map((c) => {
      const f = fields[c];
      const sortable = f.sortable !== false && f.store !== false;
      const th = h('th', { scope: 'col', 'data-field': c, class: [sortable ? 'sortable' : '', `col-${f.type}`], 'aria-sort': sortable ? orderOf(c) : false },
        sortable ? h('button', { type: 'button', class: 'th-button', 'data-testid': 'sort', 'data-field': c, text: f.string,
          onclick: () => {
            const cur = orderOf(c);
            state.order = cur === 'ascending' ? `${c} desc` : `${c} asc`;
            state.offset = 0;
            load();
          } }) : f.string);
      return th;
    })));
  }

  function row(rec, extraClass) {
    const tr = h('tr', { class: ['data-row', extraClass], 'data-testid': 'list-row', 'data-id': rec.id ? String(rec.id) : false, tabindex: '0' },
      tools.rowCell(rec), columns.map((c) => h('td', { 'data-field': c, class: `col-${fields[c].type}` }, cellContent(rec[c], fields[c], widgets[c]))));
    const open = () => openRecord(rec);
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(); });
    return tr;
  }

  async function openRecord(rec) {
    if (rec.id) {
      ctx.navigate(`#/${ctx.actionName}/${rec.id}`);
      return;
    }
    // A live row has no id yet: find it by the live declaration's key
    // fields (a message's topic and time).
    const key = (action.live && action.live.key) || [];
    if (!key.length) return;
    try {
      const ids = await orm.searchRead(action.model, and([action.domain || [], key.map((k) => [k, '=', rec[k]])]), ['id'], { limit: 1 });
      if (ids.length) ctx.navigate(`#/${ctx.actionName}/${ids[0].id}`);
    } catch (e) {
      errors.append(errorBox(e));
    }
  }

  function updatePager(count, shown) {
    total = count;
    pagerValue.textContent = count === 0 ? '0' : `${state.offset + 1}-${state.offset + shown}`;
    pagerTotal.textContent = String(count);
    prev.disabled = state.offset === 0;
    next.disabled = state.offset + shown >= count;
    pager.classList.toggle('hidden', Boolean(state.groupBy));
  }

  async function load() {
    const mine = ++seq;
    saveState();
    renderHead();
    liveBanner.classList.add('hidden');
    errors.replaceChildren();
    el.classList.add('loading');
    try {
      if (state.groupBy) await loadGroups(mine);
      else await loadRecords(mine);
    } catch (e) {
      if (mine === seq) errors.append(errorBox(e, { testid: 'list-error' }));
    } finally {
      if (mine === seq) el.classList.remove('loading');
    }
  }

  async function loadRecords(mine) {
    const res = await orm.webSearchRead(action.model, domain(), columns, { offset: state.offset, limit: LIMIT, order: state.order || false });
    if (mine !== seq) return;
    if (res.records.length === 0 && state.offset > 0 && res.length > 0) {
      state.offset = Math.floor((res.length - 1) / LIMIT) * LIMIT; // past the end (records went away)
      return load();
    }
    rememberNames(res.records, fields);
    if (action.live) isFresh = freshness(await liveKeys());
    if (mine !== seq) return;
    replace(tbody, res.records.map((r) => row(r)));
    tools.pageLoaded();
    updatePager(res.length, res.records.length);
    empty.classList.toggle('hidden', res.length > 0);
    table.classList.toggle('hidden', res.length === 0);
  }

  async function loadGroups(mine) {
    const [gname] = state.groupBy.split(':');
    const groups = await orm.readGroup(action.model, domain(), [gname], [state.groupBy], { orderby: state.order || false });
    if (action.live) isFresh = freshness(await liveKeys());
    if (mine !== seq) return;
    const countKey = `${state.groupBy.split(':')[0]}_count`;
    let count = 0;
    const rows = [];
    for (const g of groups) {
      const n = g[countKey] ?? g[`${state.groupBy}_count`] ?? g.__count ?? 0;
      count += n;
      const value = g[state.groupBy] ?? g[gname];
      const label = groupLabel(value, fields[gname]);
      const caret = h('span', { class: 'caret', 'aria-hidden': 'true', text: '▸' });
      // A group panel the view declares for this group-by (a chart of
      // the topic, say) opens in a row of its own under the group's.
      const gp = (list.groupPanels || {})[state.groupBy];
      let panelRow = null;
      const panelBtn = gp ? h('button', {
        type: 'button', class: 'btn btn-sm group-panel-btn', 'data-testid': 'group-panel', 'aria-expanded': 'false', text: gp.label,
        onclick: (e) => {
          e.stopPropagation();
          if (panelRow) {
            panelRow.remove();
            panelRow = null;
          } else {
            const p = gp.open({ model: action.model, domain: g.__domain || domain(), value });
            panelRow = h('tr', { class: 'group-panel-row', 'data-testid': 'group-panel-row' },
              h('td', { colspan: String(columns.length + tools.extraCols) }, p.el));
            head.after(panelRow);
          }
          panelBtn.setAttribute('aria-expanded', String(Boolean(panelRow)));
        },
        onkeydown: (e) => e.stopPropagation(), // Enter is the button's, not the group's
      }) : null;
      const head = h('tr', { class: 'group-row', 'data-testid': 'group-row', 'aria-expanded': 'false', tabindex: '0' },
        h('td', { colspan: String(columns.length + tools.extraCols) },
          caret, ' ', h('span', { class: 'group-label', 'data-testid': 'group-label', text: label }),
          ' ', h('span', { class: 'group-count', 'data-testid': 'group-count', text: `(${n})` }),
          panelBtn ? ' ' : null, panelBtn));
      let children = [];
      const toggle = async () => {
        const open = head.getAttribute('aria-expanded') === 'true';
        if (open) {
          children.forEach((c) => c.remove());
          children = [];
          head.setAttribute('aria-expanded', 'false');
          return;
        }
        head.setAttribute('aria-expanded', 'true');
        try {
          const res = await orm.webSearchRead(action.model, g.__domain || domain(), columns, { limit: LIMIT, order: state.order || false });
          children = res.records.map((r) => row(r, 'group-child'));
          if (res.length > res.records.length) {
            children.push(h('tr', { class: 'group-more' }, h('td', { colspan: String(columns.length + tools.extraCols), text: `${res.records.length} of ${res.length} shown` })));
          }
          (panelRow || head).after(...children);
        } catch (e) {
          errors.append(errorBox(e));
        }
      };
      head.addEventListener('click', toggle);
      head.addEventListener('keydown', (e) => { if (e.key === 'Enter') toggle(); });
      rows.push(head);
    }
    replace(tbody, rows);
    updatePager(count, count);
    empty.classList.toggle('hidden', count > 0);
    table.classList.toggle('hidden', count === 0);
  }

  // liveKeys reads what freshness compares (the list's columns may not
  // include payload or direction): the newest rows of the action. It
  // also notes the newest id, from which the banner counts.
  async function liveKeys() {
    const [rows, newest] = await Promise.all([
      orm.searchRead(action.model, action.domain || [], noteFields, { limit: 50 }),
      orm.searchRead(action.model, action.domain || [], ['id'], { limit: 1, order: 'id desc' }),
    ]);
    liveSince = newest.length ? newest[0].id : 0;
    return rows;
  }

  // recountLive shows in the banner how many rows matching the list's
  // current domain (search, filters, pins) arrived since it loaded. The
  // server counts them: a note says nothing of many fields a search may
  // name, and counting every note showed messages the search excludes.
  // One count at a time, at most one more queued.
  let counting = null;
  let recount = false;
  function recountLive() {
    if (counting) { recount = true; return; }
    const mine = seq;
    counting = orm.searchCount(action.model, and([domain(), [['id', '>', liveSince]]])).then((n) => {
      if (mine !== seq) return;
      liveBanner.dataset.count = String(n);
      liveBanner.textContent = `${n} new message${n === 1 ? '' : 's'} — refresh`;
      liveBanner.classList.toggle('hidden', n === 0);
    }, () => {}).finally(() => {
      counting = null;
      if (recount) { recount = false; recountLive(); }
    });
  }

  // --- Live rows (action.live): the bus notes the action declares are
  // prepended while the first page shows the default order and no
  // search; otherwise a banner counts them and reloads on click.
  if (action.live) {
    const live = action.live;
    bus.addChannel(live.channel);
    // Names for the many2one cells of live rows (the bus sends bare ids).
    for (const c of columns) {
      const model = fields[c].type === 'many2one' && fields[c].relation;
      if (!model) continue;
      orm.nameSearch(model, '', [], 500).then((rows) => {
        for (const [rid, label] of rows) nameCache.set(`${model}:${rid}`, label);
      }, () => {});
    }
    offs.push(bus.on(live.type, (p) => {
      if (!p || (live.match && !live.match(p)) || !pinnedMatch(pins, p) || !isFresh(p)) return;
      const plain = !state.search && state.active.size === 0 && !state.groupBy && !state.order && state.offset === 0;
      if (!plain) {
        recountLive();
        return;
      }
      const rec = noteRecord(p, fields, (model, id) => nameCache.get(`${model}:${id}`));
      const tr = row(rec, 'live-new');
      tr.setAttribute('data-testid', 'live-row');
      tbody.prepend(tr);
      while (tbody.children.length > LIVE_MAX) tbody.lastElementChild.remove();
      const shown = tbody.children.length;
      updatePager(total + 1, shown);
      empty.classList.add('hidden');
      table.classList.remove('hidden');
      // The highlight fades; the class stays so tests can find the row.
      setTimeout(() => tr.classList.add('live-seen'), 2000);
    }));
  }

  // Lists whose rows change on a bus note (devices appearing) reload,
  // at most once a second, keeping search, page and order.
  if (action.refreshOn) {
    let pending = null;
    bus.addChannel(action.refreshOn.channel);
    offs.push(bus.on(action.refreshOn.type, () => {
      if (pending) return;
      pending = setTimeout(() => { pending = null; load(); }, 1000);
    }));
    offs.push(() => clearTimeout(pending));
  }

  load();
  return {
    el,
    destroy() {
      seq++;
      offs.forEach((off) => off());
    },
    focus() { searchInput.focus(); },
  };
}

// cellContent renders one cell; long text is cut by CSS, the full value
// goes in the title.
function cellContent(value, field, widget) {
  const node = formatCell(value, field, widget);
  if ((field.type === 'text' || field.type === 'char') && typeof value === 'string') {
    return h('span', { class: 'cell-text', title: value.length > 60 ? value.slice(0, 1000) : false }, node);
  }
  return node;
}

function groupLabel(value, field) {
  if (value === false || value === null || value === undefined) return 'None';
  if (Array.isArray(value)) return String(value[1] ?? value[0]);
  if (field.type === 'selection') return selectionLabel(field, value);
  if (field.type === 'boolean') return value ? 'Yes' : 'No';
  return String(value);
}

// nameCache remembers the names of many2one values seen in loaded rows
// (by "<model>:<id>"), so live rows, which come with bare ids, can show
// them. Filled by rememberNames and the live lists' name_search.
const nameCache = new Map();

/** rememberNames stores the many2one names of rows (fields: fields_get) for live rows. */
export function rememberNames(rows, fields) {
  for (const r of rows) {
    for (const [k, v] of Object.entries(r)) {
      const f = fields[k];
      if (f && f.type === 'many2one' && f.relation && Array.isArray(v)) nameCache.set(`${f.relation}:${v[0]}`, v[1]);
    }
  }
}
