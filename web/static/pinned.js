// Pinned filters of a list: exact field values carried in the route's
// query as eq.<field>=<value> (the topic tree opens Received History
// with eq.topic and eq.broker_id), AND-ed into the list's domain and
// shown as chips the user can remove. Free-text search cannot say "this
// topic exactly": it is a substring over several fields.
import { h } from './dom.js';

const PREFIX = 'eq.';

/** pinnedFrom reads the pins of query for the fields the list has. */
export function pinnedFrom(query, fields) {
  const pins = [];
  for (const [k, raw] of query.entries()) {
    if (!k.startsWith(PREFIX)) continue;
    const field = k.slice(PREFIX.length);
    const f = fields[field];
    if (!f) continue;
    let value = raw;
    if (['many2one', 'integer'].includes(f.type)) value = Number(raw);
    else if (f.type === 'boolean') value = raw === 'true';
    if (typeof value === 'number' && !Number.isFinite(value)) continue;
    pins.push({ field, value, label: f.string || field });
  }
  return pins;
}

/** pinnedDomain is the domain of pins. */
export const pinnedDomain = (pins) => pins.map((p) => [p.field, '=', p.value]);

/** pinnedMatch tells whether a bus note (ids bare) matches every pin. */
export const pinnedMatch = (pins, note) => pins.every((p) => note[p.field] === p.value);

/** pinnedParams writes pins into URLSearchParams p. */
export function pinnedParams(pins, p) {
  for (const pin of pins) p.set(PREFIX + pin.field, String(pin.value));
}

/** pinnedChips renders pins as removable chips; onRemove(pin). */
export function pinnedChips(pins, onRemove) {
  return pins.map((pin) => h('button', {
    type: 'button', class: 'btn btn-chip', 'aria-pressed': 'true', 'data-testid': 'pinned-filter', 'data-field': pin.field,
    title: 'Remove this filter', text: `${pin.label} = ${pin.value} ✕`, onclick: () => onRemove(pin),
  }));
}
