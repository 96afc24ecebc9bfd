// Live rows: which bus notes are news to a list that was just loaded.
//
// A fresh bus subscription (last = 0) replays the server's recent
// notes, and a note can also race the list's own read; both would show a
// row twice. Rows are ordered newest first, so a note older than the
// newest loaded row is already in the database (shown, or on a later
// page), and one of the same second is a duplicate when its topic and
// payload match a loaded row of that second.

/** noteFields are the fields freshness compares: read them for the loaded rows. */
export const noteFields = ['timestamp', 'topic', 'payload', 'direction'];

const key = (r) => `${r.topic}\u0000${r.payload}\u0000${r.direction}`;

/**
 * freshness returns a predicate for notes {timestamp, topic, payload,
 * direction} against the loaded rows (same fields). Each loaded row
 * cancels one matching note, so a note repeated within the same second
 * by the device still shows.
 */
export function freshness(rows) {
  let newest = '';
  let seen = new Map(); // key -> count of rows at the newest timestamp
  const remember = (r) => {
    if (!r.timestamp || r.timestamp < newest) return;
    if (r.timestamp > newest) {
      newest = r.timestamp;
      seen = new Map();
    }
    seen.set(key(r), (seen.get(key(r)) || 0) + 1);
  };
  rows.forEach(remember);
  return (note) => {
    if (!note || typeof note.timestamp !== 'string') return false;
    // Wire datetimes ("YYYY-MM-DD HH:MM:SS") compare as strings.
    if (note.timestamp < newest) return false;
    if (note.timestamp === newest) {
      const n = seen.get(key(note)) || 0;
      if (n > 0) {
        seen.set(key(note), n - 1);
        return false;
      }
    }
    if (note.timestamp > newest) {
      // Loaded rows are all older now: nothing left to match.
      newest = note.timestamp;
      seen = new Map();
    }
    return true;
  };
}

/**
 * noteRecord shapes a bus note like a read() row of a model with these
 * fields (fields_get): many2one ids, bare on the bus, become [id, name],
 * the name from nameOf(relation, id) or "#id" until a reload names them.
 * Other values, and many2one values already shaped, are kept.
 */
export function noteRecord(note, fields, nameOf = () => undefined) {
  const rec = {};
  for (const [k, v] of Object.entries(note || {})) {
    const f = fields[k];
    rec[k] = f && f.type === 'many2one' && typeof v === 'number' ? [v, nameOf(f.relation, v) || `#${v}`] : v;
  }
  return rec;
}
