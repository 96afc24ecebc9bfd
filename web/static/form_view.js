// The generic form view: field groups from the view declaration (fields
// fields_get knows), inputs per field type, create/save/discard/delete,
// the model's buttons in the header with a statusbar, validation errors
// from the server next to the form, and the declaration's panels below.
import { h, replace, errorBox, toast, confirmDialog } from './dom.js';
import { orm, callButton } from './rpc.js';
import { fieldInput, formatText, isSecret } from './fields.js';
import { smallList } from './small_list.js';

const SKIP_READ = new Set(['one2many', 'many2many', 'binary']);

/**
 * formView renders one record (or a new one) of an action. ctx: {action,
 * actionName, decl, fields, id (number, or null for new), rights {create,
 * write, unlink}, navigate(hash, replace), actionForModel(model) (the
 * action links to that model's records open, or null)}. Returns {el,
 * destroy, isDirty}.
 *
 * A panel of decl.form.panels is {panel: make, ...options}, or make
 * alone; make({model, id, record, fields, form, opts}) returns {el,
 * update(record), destroy} (opts: the entry). A button's client(ctx)
 * gets {model, id, record, fields, form, button}. A warning of
 * decl.form.warnings is {name, text, when(values, saved)}: shown while
 * when holds for the edited values and the saved record.
 *
 * decl.form.readonly maps a field to when(values), or to {when(values),
 * hint}: the field is read-only while when holds for the edited values,
 * with the hint under it (a field the protocol in use ignores), and
 * turns editable again as the values change. A related field of
 * fields_get ("broker_id.protocol") follows its many2one as it is edited,
 * so that rules and hints see the value the record will have. A group
 * whose every row is invisible is hidden. Binary fields are read only
 * when decl.form.widgets names a widget for them ('bytes').
 */
export function formView(ctx) {
  const { action, decl, fields } = ctx;
  const actionForModel = ctx.actionForModel || (() => null);
  const form = decl.form || {};
  const widgets = form.widgets || {};
  const readFields = Object.keys(fields).filter((n) => !SKIP_READ.has(fields[n].type) || (fields[n].type === 'binary' && widgets[n]));
  let id = ctx.id;
  let record = {};
  let editors = {}; // name -> {el, get, set, reload?}
  let changed = new Set();
  let followed = {}; // related field -> its value through the edited many2one
  const followSeq = {};
  const ruleState = {}; // field with a readonly rule -> "readonly|hint" as rendered
  let panels = [];
  let destroyed = false;

  const errors = h('div', { class: 'errors', 'data-testid': 'form-errors', 'aria-live': 'assertive' });
  const crumbTitle = h('span', { class: 'crumb-current', 'data-testid': 'form-title' });
  const saveBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'form-save', name: 'save', text: 'Save', onclick: () => save() });
  const discardBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'form-discard', name: 'discard', text: 'Discard', onclick: () => discard() });
  const deleteBtn = h('button', { type: 'button', class: 'btn btn-danger-outline', 'data-testid': 'form-delete', name: 'delete', text: 'Delete', onclick: () => remove() });
  const cpActions = h('div', { class: 'cp-actions' });
  const header = h('div', { class: 'form-header' });
  const title = h('h2', { class: 'form-title' });
  const groupsBox = h('div', { class: 'form-groups' });
  const warningsBox = h('div', { class: 'form-warnings', 'aria-live': 'polite' });
  const panelsBox = h('div', { class: 'form-panels' });
  const sheet = h('div', { class: 'card form-sheet' }, header, title, warningsBox, groupsBox);
  const el = h('section', { class: 'view form-view', 'data-testid': 'form-view', 'data-model': action.model },
    h('div', { class: 'control-panel card' },
      h('div', { class: 'cp-top' },
        h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
          action.singleton ? h('span', { class: 'crumb', text: action.title })
            : h('a', { class: 'crumb', href: `#/${ctx.actionName}`, 'data-testid': 'breadcrumb-list', text: action.title }),
          h('span', { class: 'crumb-sep', 'aria-hidden': 'true', text: '/' }),
          crumbTitle),
        cpActions)),
    errors, sheet, panelsBox);

  const editable = () => decl.edit !== false && (id ? ctx.rights.write : ctx.rights.create);

  // values is the record as edited: the loaded values with the inputs'.
  function values() {
    const v = { ...record, ...followed };
    for (const [name, ed] of Object.entries(editors)) {
      if (!changed.has(name)) continue;
      const x = ed.get();
      if (x === undefined) continue;
      v[name] = fields[name].type === 'many2one' && x ? [x, ''] : x;
    }
    v.id = id || false;
    return v;
  }

  function setDirty() {
    const dirty = changed.size > 0 || !id;
    el.classList.toggle('dirty', changed.size > 0);
    saveBtn.classList.toggle('hidden', !editable() || (!dirty && Boolean(id)));
    discardBtn.classList.toggle('hidden', !editable() || (!dirty && Boolean(id)));
  }

  function onChange(name) {
    changed.add(name);
    setDirty();
    applyRules();
    applyInvisible();
    for (const dep of (form.dependents || {})[name] || []) {
      if (editors[dep] && editors[dep].reload) editors[dep].reload(true);
    }
    follow(name);
  }

  // ruleOf is a field's readonly rule as {when, hint}, or null.
  function ruleOf(name) {
    const rule = (form.readonly || {})[name];
    if (!rule) return null;
    return typeof rule === 'function' ? { when: rule } : rule;
  }

  // ruleHolds: the field's readonly rule holds for the edited values.
  function ruleHolds(name) {
    const rule = ruleOf(name);
    return Boolean(rule && rule.when(values()));
  }

  function isReadonly(name) {
    const f = fields[name];
    if (!editable() || f.readonly) return true;
    return ruleHolds(name);
  }

  // hintOf is the hint shown under a field while its rule holds.
  function hintOf(name) {
    const rule = ruleOf(name);
    return rule && rule.hint && ruleHolds(name) ? rule.hint : null;
  }

  // applyRules renders again the rows whose readonly rule changed
  // outcome with the edited values: a field turning read-only shows
  // its saved value and is no longer sent; one turning editable starts
  // from it.
  function applyRules() {
    for (const name of Object.keys(form.readonly || {})) {
      if (!editors[name]) continue;
      const state = `${isReadonly(name)}|${hintOf(name) || ''}`;
      if (ruleState[name] === state) continue;
      const row = groupsBox.querySelector(`.form-row[data-field="${CSS.escape(name)}"]`);
      if (!row) continue;
      changed.delete(name);
      row.replaceWith(fieldRow(name));
    }
    setDirty();
  }

  // followers are the related fields of fields_get that mirror a field
  // of the record the many2one m2o points at.
  function followers(m2o) {
    if (!fields[m2o] || fields[m2o].type !== 'many2one') return [];
    return Object.keys(fields).filter((n) => {
      const path = (fields[n].related || '').split('.');
      return path.length === 2 && path[0] === m2o;
    });
  }

  // follow reads, for the many2one m2o as edited, the values its
  // related fields will have once saved (the server computes them then),
  // as Odoo's onchange does.
  async function follow(m2o) {
    const names = followers(m2o);
    if (!names.length) return;
    const mine = (followSeq[m2o] = (followSeq[m2o] || 0) + 1);
    const v = values()[m2o];
    const rid = Array.isArray(v) ? v[0] : v;
    let row = {};
    if (rid) {
      try {
        [row = {}] = await orm.read(fields[m2o].relation, [rid], names.map((n) => fields[n].related.split('.')[1]));
      } catch (e) {
        return; // not readable: the rules keep the saved value
      }
    }
    if (destroyed || mine !== followSeq[m2o]) return;
    for (const n of names) {
      followed[n] = rid ? row[fields[n].related.split('.')[1]] ?? false : false;
      if (editors[n]) editors[n].set(followed[n]);
    }
    applyRules();
    applyInvisible();
  }

  // applyWarnings shows the declaration's warnings whose when(values,
  // saved record) holds: what a save is about to do that the user may
  // not expect.
  function applyWarnings() {
    const v = values();
    replace(warningsBox, (form.warnings || []).filter((w) => w.when(v, record)).map((w) =>
      h('p', { class: 'form-warning', role: 'status', 'data-testid': `form-warning-${w.name}`, text: w.text })));
  }

  function applyInvisible() {
    applyWarnings();
    const v = values();
    for (const [name, rule] of Object.entries(form.invisible || {})) {
      const row = groupsBox.querySelector(`.form-row[data-field="${CSS.escape(name)}"]`);
      if (row) row.classList.toggle('hidden', Boolean(rule(v)));
    }
    for (const g of groupsBox.querySelectorAll('.form-group')) {
      const rows = [...g.querySelectorAll('.form-row')];
      g.classList.toggle('hidden', rows.length > 0 && rows.every((r) => r.classList.contains('hidden')));
    }
  }

  function renderButtons() {
    const v = values();
    const buttons = (form.buttons || []).filter((b) => !b.visible || b.visible(v)).map((b) =>
      h('button', {
        type: 'button', class: ['btn', b.primary && b.primary(v) ? 'btn-primary' : 'btn-secondary'],
        'data-method': b.method, 'data-testid': `button-${b.method}`, name: b.method, text: b.label,
        onclick: (e) => runButton(b, e.currentTarget),
      }));
    const bar = form.statusbar && fields[form.statusbar] ? statusbar(fields[form.statusbar], record[form.statusbar]) : null;
    replace(header, h('div', { class: 'form-buttons' }, buttons), bar);
    header.classList.toggle('hidden', !buttons.length && !bar);
    replace(cpActions, saveBtn, discardBtn, id && decl.delete !== false && ctx.rights.unlink ? deleteBtn : null);
    setDirty();
  }

  function renderFields() {
    editors = {};
    changed = new Set();
    followed = {};
    const titleField = form.title && fields[form.title] ? form.title : 'display_name';
    const name = id ? formatText(record[titleField] || record.display_name, fields[titleField]) || `#${id}` : 'New';
    title.textContent = name;
    crumbTitle.textContent = name;
    // Open groups first, then the collapsed ones in a row of their own
    // (so a closed one does not leave a hole beside a long open one),
    // wide ones last.
    const opened = new Set([...groupsBox.querySelectorAll('details[open]')].map((d) => d.dataset.group));
    const render = (g) => {
      const names = g.fields.filter((n) => fields[n]);
      if (!names.length) return null;
      const rows = names.map((n) => fieldRow(n));
      if (g.collapsed) {
        return h('details', { class: ['form-group', g.wide ? 'wide' : ''], 'data-group': g.title, open: opened.has(g.title) },
          h('summary', { text: g.title }), h('div', { class: 'form-group-body' }, rows));
      }
      return h('fieldset', { class: ['form-group', g.wide ? 'wide' : ''], 'data-group': g.title },
        h('legend', { text: g.title }), rows);
    };
    const all = form.groups || [];
    const collapsed = all.filter((g) => g.collapsed && !g.wide).map(render).filter(Boolean);
    const groups = [
      all.filter((g) => !g.collapsed && !g.wide).map(render),
      collapsed.length ? h('div', { class: 'form-collapsed' }, collapsed) : null,
      all.filter((g) => g.wide).map(render),
    ];
    replace(groupsBox, groups);
    applyInvisible();
  }

  function fieldRow(name) {
    const f = fields[name];
    if (f.type === 'one2many' || f.type === 'many2many') return relatedRow(name, f);
    const ro = isReadonly(name);
    const hint = hintOf(name);
    if (ruleOf(name)) ruleState[name] = `${ro}|${hint || ''}`;
    const value = name in followed ? followed[name] : record[name];
    const ed = fieldInput({
      name, field: f, value, readonly: ro, widget: widgets[name], isNew: !id, onChange,
      domain: (form.domains || {})[name], record: values,
    });
    editors[name] = ed;
    const label = h('label', { for: ro ? false : `f-${name}`, class: ['form-label', f.required && !ro ? 'required' : ''], title: f.help || false, text: f.string });
    const link = !ro || f.type !== 'many2one' || !Array.isArray(record[name]) ? null : relLink(f.relation, record[name]);
    return h('div', { class: ['form-row', `type-${f.type}`, ro ? 'is-readonly' : ''], 'data-field': name },
      label,
      h('div', { class: 'form-input' }, link || ed.el,
        !ro && isSecret(name, f) && id ? h('small', { class: 'muted', text: 'Stored; never shown. Type to replace it.' }) : null,
        hint ? h('small', { class: 'muted field-hint', 'data-testid': `field-hint-${name}`, text: hint }) : null,
        // form.helpInline: fields whose help matters before anyone hovers
        // the label (what a switch subscribes), shown under the field.
        (form.helpInline || []).includes(name) && f.help
          ? h('small', { class: 'muted field-help', 'data-testid': `field-help-${name}`, text: f.help }) : null,
        h('div', { class: 'field-error', 'data-testid': `field-error-${name}` })));
  }

  // relatedRow shows a one2many read-only as a small list of the
  // related records (a many2many as its count: the form does not read
  // x2many ids).
  function relatedRow(name, f) {
    let body;
    if (!id) {
      body = h('div', { class: 'readonly-value muted', text: 'Save the record first.' });
    } else if (f.type === 'one2many' && f.relation_field) {
      const target = actionForModel(f.relation);
      body = smallList({
        title: f.string, model: f.relation, domain: [[f.relation_field, '=', id]],
        columns: ((form.o2mColumns || {})[name]) || ['display_name'], limit: 10, testid: `o2m-${name}`,
        href: target ? (r) => `#/${target}/${r.id}` : null,
      }).el;
      body.classList.add('o2m');
    } else {
      body = h('div', { class: 'readonly-value muted', text: '—' });
    }
    return h('div', { class: ['form-row', 'form-row-o2m', `type-${f.type}`], 'data-field': name }, body);
  }

  function relLink(model, value) {
    const target = actionForModel(model);
    const text = String(value[1] ?? `#${value[0]}`);
    return target
      ? h('a', { class: 'readonly-value rel-link', href: `#/${target}/${value[0]}`, 'data-field-link': model, text })
      : h('div', { class: 'readonly-value', text });
  }

  // showError puts a server error in the box above the form and, when its
  // message starts with a field label ("Port: ..."), next to that field.
  function showError(e) {
    errors.replaceChildren(errorBox(e, { testid: 'form-error' }));
    for (const n of groupsBox.querySelectorAll('.field-error')) n.textContent = '';
    for (const n of groupsBox.querySelectorAll('.form-row.invalid')) n.classList.remove('invalid');
    const msg = (e && e.message) || '';
    for (const [name, f] of Object.entries(fields)) {
      if (!editors[name] || !f.string) continue;
      const mentions = [`"${f.string}"`, `'${f.string}'`, `'${name}'`, `(${name})`].some((m) => msg.includes(m));
      if (msg.startsWith(f.string + ':') || mentions) {
        const row = groupsBox.querySelector(`.form-row[data-field="${CSS.escape(name)}"]`);
        if (row) {
          row.classList.add('invalid');
          row.querySelector('.field-error').textContent = msg.startsWith(f.string + ':') ? msg.slice(f.string.length + 1).trim() : msg;
        }
      }
    }
    errors.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }

  async function load() {
    errors.replaceChildren();
    el.classList.add('loading');
    try {
      if (!id && action.singleton) {
        const rows = await orm.searchRead(action.model, [], ['id'], { limit: 1, order: 'id' });
        if (rows.length) id = rows[0].id;
      }
      if (id) {
        const rows = await orm.read(action.model, [id], readFields);
        if (!rows.length) throw new Error('This record does not exist or was deleted.');
        record = rows[0];
      } else {
        record = await orm.defaultGet(action.model, readFields);
        for (const [k, v] of Object.entries(record)) {
          if (fields[k] && fields[k].type === 'many2one' && typeof v === 'number') record[k] = [v, `#${v}`];
        }
        for (const [k, v] of Object.entries(ctx.defaults || {})) record[k] = v;
      }
      if (destroyed) return;
      el.dataset.id = id ? String(id) : '';
      renderFields();
      renderButtons();
      renderPanels();
      // A new record's defaults (a broker given by the page that opened
      // it) say what its related fields will be.
      if (!id) Object.keys(fields).forEach((n) => { if (record[n]) follow(n); });
    } catch (e) {
      if (!destroyed) showError(e);
    } finally {
      el.classList.remove('loading');
    }
  }

  function renderPanels() {
    if (!id && !action.singleton) {
      panels.forEach((p) => p.destroy && p.destroy());
      panels = [];
      panelsBox.replaceChildren();
      return;
    }
    if (panels.length) {
      panels.forEach((p) => p.update && p.update(record));
      return;
    }
    const api = { reload: () => reload(), toast, showError, values, isDirty: () => changed.size > 0 };
    panels = (form.panels || []).map((p) => {
      const make = typeof p === 'function' ? p : p.panel;
      return make({ model: action.model, id, record, fields, form: api, opts: typeof p === 'function' ? {} : p });
    }).filter(Boolean);
    replace(panelsBox, panels.map((p) => p.el));
  }

  async function reload() {
    if (!id) return;
    try {
      const rows = await orm.read(action.model, [id], readFields);
      if (!rows.length || destroyed) return;
      record = rows[0];
      renderFields();
      renderButtons();
      renderPanels();
    } catch (e) {
      showError(e);
    }
  }

  // collect is what save sends: every editable value for a new record,
  // the changed ones for an existing one; untouched secrets never.
  function collect() {
    const vals = {};
    for (const [name, ed] of Object.entries(editors)) {
      if (isReadonly(name)) continue;
      if (id && !changed.has(name)) continue;
      const v = ed.get();
      if (v === undefined) continue;
      vals[name] = v;
    }
    return vals;
  }

  async function save() {
    const vals = collect();
    errors.replaceChildren();
    saveBtn.disabled = true;
    try {
      if (id) {
        if (Object.keys(vals).length) await orm.write(action.model, [id], vals);
        await reload();
      } else {
        const newId = await orm.create(action.model, vals);
        id = newId;
        ctx.navigate(`#/${ctx.actionName}/${newId}`, true);
      }
      return true;
    } catch (e) {
      showError(e);
      return false;
    } finally {
      saveBtn.disabled = false;
    }
  }

  function discard() {
    errors.replaceChildren();
    if (!id) {
      ctx.navigate(`#/${ctx.actionName}`);
      return;
    }
    renderFields();
    renderButtons();
  }

  // remove deletes the record once the user confirmed. The records the
  // declaration's form.deleteWith lists ({model, field, label: [one,
  // many], cascade}) go too, and the dialog counts them: those the server
  // would refuse the delete for are deleted first, in the listed order;
  // cascade ones are only counted, the server deletes them with it;
  // kept ones are counted and stay, unlinked (history keeps its rows).
  async function remove() {
    let deps;
    try {
      deps = await dependents();
    } catch (e) {
      showError(e);
      return;
    }
    const named = (d) => `${d.count} ${d.label[d.count === 1 ? 0 : 1]}`;
    const counted = deps.filter((d) => d.count > 0 && !d.kept).map(named);
    const keptDeps = deps.filter((d) => d.count > 0 && d.kept);
    const kept = keptDeps.map(named);
    const stay = keptDeps.reduce((n, d) => n + d.count, 0) === 1 ? 'stays' : 'stay';
    let message = counted.length
      ? `Deleting “${title.textContent}” also deletes its ${sentence(counted)}. This cannot be undone.`
      : 'Are you sure you want to delete this record?';
    if (kept.length) message += ` Its ${sentence(kept)} ${stay} in the history, no longer linked to it.`;
    if (!(await confirmDialog(message, { ok: counted.length ? 'Delete all' : 'Delete' }))) return;
    try {
      for (const d of deps) {
        if (d.ids.length) await orm.unlink(d.model, d.ids);
      }
      await orm.unlink(action.model, [id]);
      ctx.navigate(`#/${ctx.actionName}`);
    } catch (e) {
      showError(e);
    }
  }

  // dependents are the records of form.deleteWith pointing at this one,
  // archived ones included: {model, label, count, ids (to delete first)}.
  function dependents() {
    const all = { context: { active_test: false } };
    return Promise.all((form.deleteWith || []).map(async (d) => {
      const domain = [[d.field, '=', id]];
      if (d.cascade || d.kept) return { ...d, count: await orm.searchCount(d.model, domain, all), ids: [] };
      const ids = await orm.search(d.model, domain, all);
      return { ...d, count: ids.length, ids };
    }));
  }

  // runButton saves pending edits first (as Odoo does), then calls the
  // method and shows what it returned.
  async function runButton(b, btn) {
    if (b.confirm && !(await confirmDialog(b.confirm))) return;
    if ((changed.size > 0 || !id) && !b.model) {
      if (!(await save())) return;
      if (!id) return;
    }
    errors.replaceChildren();
    if (b.client) {
      b.client({ model: action.model, id, record: values(), fields, form: { reload, toast, showError, values, isDirty: () => changed.size > 0 }, button: b });
      return;
    }
    btn.disabled = true;
    btn.classList.add('busy');
    try {
      const res = await callButton(action.model, b.method, b.model ? [] : [[id]], {});
      handleAction(res);
      await reload();
      if (!id && action.singleton) await load();
    } catch (e) {
      showError(e);
      await reload();
    } finally {
      btn.disabled = false;
      btn.classList.remove('busy');
    }
  }

  load();
  return {
    el,
    isDirty: () => changed.size > 0,
    destroy() {
      destroyed = true;
      panels.forEach((p) => p.destroy && p.destroy());
    },
  };
}

/** handleAction shows what a button returned: a notification, or nothing. */
export function handleAction(res) {
  if (res && typeof res === 'object' && res.type === 'ir.actions.client' && res.tag === 'display_notification') {
    const p = res.params || {};
    toast({ title: p.title || '', message: p.message || '', type: p.type || 'info', sticky: Boolean(p.sticky) });
  }
}

// statusbar shows a selection field's values as steps, the current one
// marked.
function statusbar(field, value) {
  return h('ol', { class: 'statusbar', 'data-testid': 'statusbar', 'data-value': value || '', 'aria-label': field.string },
    (field.selection || []).map(([v, label]) => h('li', {
      class: ['status-step', v === value ? 'current' : ''], 'data-value': v, 'aria-current': v === value ? 'step' : false, text: label,
    })));
}

// sentence joins parts as English does: "a", "a and b", "a, b and c".
function sentence(parts) {
  return parts.length < 2 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}
