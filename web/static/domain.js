// Odoo domains in prefix notation: combining leaves and sub-domains with
// '&' and '|' the way the web client's search view does.

/** or combines domains with '|' (an empty list means "everything"). */
export function or(domains) {
  const ds = domains.filter((d) => d && d.length);
  if (ds.length === 0) return [];
  return [...Array(ds.length - 1).fill('|'), ...ds.flat()];
}

/** and combines domains with '&'. */
export function and(domains) {
  const ds = domains.filter((d) => d && d.length);
  if (ds.length === 0) return [];
  return [...Array(ds.length - 1).fill('&'), ...ds.flat()];
}

/**
 * searchDomain is the search box's domain: text ilike any of the fields,
 * OR-ed.
 */
export function searchDomain(text, fields) {
  const t = (text || '').trim();
  if (!t || !fields.length) return [];
  return or(fields.map((f) => [[f, 'ilike', t]]));
}

/**
 * filterDomain combines active filters: filters of one group are OR-ed,
 * groups are AND-ed (Odoo's search view rule).
 */
export function filterDomain(filters, active) {
  const groups = new Map();
  for (const f of filters) {
    if (!active.has(f.name)) continue;
    const key = f.group || `__${f.name}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(f.domain);
  }
  return and([...groups.values()].map(or));
}
