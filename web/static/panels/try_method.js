// A form panel that calls a method of the record with arguments typed
// into it and shows the dict the method returns, one labelled row per
// key (a rule's Test: what the rule would do with a topic and payload,
// without doing it).
import { h, replace, errorBox, badge } from '../dom.js';
import { callKw } from '../rpc.js';

/**
 * resultRows turns a method's dict into [{key, label, text, tone}] in the
 * order of rows ([key, label, kind] triples), then the keys rows does not
 * name. A row of kind 'bool' reads Yes/No (tone success/muted); other
 * empty values (false, null, '': Odoo's "none") read as an em dash,
 * objects as JSON. Keys rows does not name read booleans as Yes/No.
 * Pure, for the unit tests.
 */
export function resultRows(result, rows = []) {
  const r = result && typeof result === 'object' && !Array.isArray(result) ? result : { result };
  const named = new Set(rows.map(([k]) => k));
  const keys = [...rows.filter(([k]) => k in r), ...Object.keys(r).filter((k) => !named.has(k)).map((k) => [k, k, typeof r[k] === 'boolean' ? 'bool' : ''])];
  return keys.map(([key, label, kind]) => {
    const v = r[key];
    if (kind === 'bool') return { key, label, text: v ? 'Yes' : 'No', tone: v ? 'success' : 'muted' };
    if (v === false || v === null || v === undefined || v === '') return { key, label, text: '—', tone: null };
    if (typeof v === 'object') return { key, label, text: JSON.stringify(v), tone: null };
    return { key, label, text: String(v), tone: null };
  });
}

/**
 * tryMethod calls opts.method of the form's model on this record with the
 * panel's inputs as positional arguments after the ids. opts (the panel's
 * declaration): {title, method, inputs: [{name, label, placeholder,
 * rows (a textarea of that many rows), initial(record)}], rows: [[key,
 * label, kind]] (how the result reads: resultRows), danger: [key] (rows shown as an
 * error when set), button (its label), testid, hint}. The method runs on
 * the saved record: with unsaved edits the panel says so.
 */
export function tryMethod({ model, id, record, form, opts }) {
  const testid = opts.testid || 'try-method';
  const inputs = (opts.inputs || []).map((i) => {
    const attrs = { class: 'input mono', name: `${testid}-${i.name}`, 'data-testid': `${testid}-${i.name}`, placeholder: i.placeholder || false,
      spellcheck: 'false' };
    const el = i.rows ? h('textarea', { ...attrs, rows: String(i.rows) }) : h('input', attrs);
    el.value = i.initial ? i.initial(record) || '' : '';
    return { ...i, el };
  });
  const errors = h('div');
  const result = h('div', { class: 'try-result', 'data-testid': `${testid}-result`, 'aria-live': 'polite' });
  const note = h('p', { class: 'muted small hidden', 'data-testid': `${testid}-unsaved`, text: 'Testing the saved record: save to test your edits.' });
  const run = h('button', { type: 'submit', class: 'btn', 'data-testid': `${testid}-run`, 'data-method': opts.method, text: opts.button || 'Test' });

  const show = (res) => {
    const danger = new Set(opts.danger || []);
    replace(result, h('table', { class: 'table table-sm kv', 'data-testid': `${testid}-table` },
      h('tbody', {}, resultRows(res, opts.rows).map((row) => h('tr', { 'data-key': row.key },
        h('th', { scope: 'row', text: row.label }),
        h('td', { 'data-value': row.text },
          row.tone ? badge(row.text, row.text, row.tone)
            : h('span', { class: ['cell-text', 'mono', danger.has(row.key) && row.text !== '—' ? 'text-danger' : null], text: row.text })))))));
  };

  const el = h('section', { class: 'card panel', 'data-testid': testid },
    h('header', { class: 'panel-header' }, h('h3', { text: opts.title || 'Test' })),
    opts.hint ? h('p', { class: 'muted small', text: opts.hint }) : null,
    h('form', { class: 'try-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        errors.replaceChildren();
        note.classList.toggle('hidden', !form.isDirty());
        run.disabled = true;
        try {
          show(await callKw(model, opts.method, [[id], ...inputs.map((i) => i.el.value)]));
        } catch (e) {
          replace(result);
          errors.append(errorBox(e, { testid: `${testid}-error` }));
        } finally {
          run.disabled = false;
        }
      } },
    h('div', { class: 'try-fields' }, inputs.map((i) => h('label', { class: 'form-label' }, i.label, i.el))),
    h('div', { class: 'panel-actions' }, run, note)),
    errors, result);
  return { el };
}
