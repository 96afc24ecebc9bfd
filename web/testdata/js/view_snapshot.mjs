// snapshot reduces a view registry to plain JSON for comparison: the
// menu, the actions (without their live/refreshOn declarations, checked
// apart), the action links open, and per view the list and form
// declarations with every rule function replaced by its results on
// sample records, panels by their count and client actions by a flag.
//
// views.snapshot.json is the snapshot views.test.mjs expects. It was
// first taken of views.js before the views were split into one file per
// model (commit 8c07fff), so the split provably changed nothing. After
// changing a declaration on purpose, rewrite it from the web folder:
//
//   node testdata/js/view_snapshot.mjs > testdata/js/views.snapshot.json
//
// and review its diff.

export const samples = [
  {},
  { id: 1 },
  { id: 1, connection_status: 'success', store_type: 'file', url_scheme: 'ws://', subscribed: true, enabled: true, status: 'start', broker_id: [3, 'b'],
    protocol: 'MQTTv5', broker_protocol: 'MQTTv5', content_type: 'application/json', user_properties: '[["a","1"]]' },
  { id: 2, connection_status: 'fail', store_type: 'memory', url_scheme: 'mqtt://', subscribed: false, enabled: true, status: 'stop', broker_id: 4 },
  { id: false, url_scheme: 'wss://', subscribed: false, enabled: false, broker_id: false },
];

export const models = ['mqtt.broker', 'mqtt.subscription', 'mqtt.signal', 'mqtt.signal.history', 'mqtt.service', 'iot.device', 'res.users'];

const BUTTON_KEYS = ['method', 'label', 'confirm', 'model', 'visible', 'primary', 'client'];

function plain(v, key) {
  if (typeof v === 'function') return samples.map((r) => plain(v(r)));
  if (Array.isArray(v)) return v.map((x) => plain(x));
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) {
      if (key === 'form' && k === 'panels') out[k] = v[k].length;
      else if (key === 'form' && k === 'buttons') {
        out[k] = v[k].map((b) => Object.fromEntries(BUTTON_KEYS.filter((bk) => bk in b)
          .map((bk) => [bk, bk === 'client' ? typeof b[bk] : plain(b[bk])])));
      } else out[k] = plain(v[k], k);
    }
    return out;
  }
  return v;
}

export function snapshot(reg) {
  const actions = {};
  // Actions and views by name (menu order is in the menu): a rewritten
  // snapshot diffs by content, not by registration order.
  for (const [name, a] of Object.entries(reg.actions).sort(([x], [y]) => x.localeCompare(y))) {
    const { live: _l, refreshOn: _r, ...rest } = a;
    actions[name] = plain(rest);
  }
  const views = {};
  for (const [model, d] of Object.entries(reg.views).sort(([x], [y]) => x.localeCompare(y))) {
    views[model] = plain({ create: d.create, delete: d.delete, edit: d.edit, list: d.list, form: d.form });
  }
  return {
    menu: reg.menu,
    actions,
    opens: Object.fromEntries(models.map((m) => [m, reg.actionForModel(m)])),
    views,
  };
}

// Run as a script: print the snapshot of static/views/.
if (import.meta.url === `file://${process.argv[1]}`) {
  const reg = await import('../../static/views/index.js');
  console.log(JSON.stringify(snapshot(reg), null, 1));
}
