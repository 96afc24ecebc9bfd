// The topic tree of a broker, as MQTT Explorer shows it: the levels of
// the topics received, each with its message count and, for a topic, its
// last payload, time and retained flag. Levels load on expand from the
// declaration's method (the server's per-topic summary, never the
// history); the realtime channel's notes of the broker update the
// visible nodes live; a topic opens the history action, pinned to it.
import { h, replace, errorBox, debounce, formatDatetime } from '../dom.js';
import { callKw } from '../rpc.js';
import { bus } from '../bus.js';

const PAYLOAD_SHOWN = 80; // characters of the last payload in a row
const SEARCH_DEPTH = 8; // levels a search answers at once, expanded

let styled = false;
function addStyle() {
  if (styled) return;
  styled = true;
  document.head.append(h('link', { rel: 'stylesheet', href: '/web/static/panels/topic_tree.css' }));
}

const short = (s) => (s.length > PAYLOAD_SHOWN ? `${s.slice(0, PAYLOAD_SHOWN)}…` : s);

/** historyHref opens a history action pinned to a topic of a broker (pinned.js). */
export function historyHref(action, brokerID, topic) {
  const p = new URLSearchParams();
  p.set('eq.topic', topic);
  p.set('eq.broker_id', String(brokerID));
  return `#/${action}?${p.toString()}`;
}

/**
 * topicTree is the form panel of a broker: opts {title, testid, method
 * (the tree's: prefix, depth, search), history (the action a topic
 * opens), live {channel, type}, publish ({model, id, record, topic})
 * (optional: each node gets a Publish button opening it with its path)}.
 */
export function topicTree({ model, id, record: initial, opts }) {
  let record = initial || {};
  addStyle();
  const testid = opts.testid || 'topic-tree';
  const nodes = new Map(); // path -> node state, for the live updates
  // The paths the user opened: a reload of a level (a new topic, a
  // search cleared) opens them again.
  const opened = new Set();
  let search = '';
  let seq = 0; // a search supersedes the answers of the one before
  const errors = h('div');
  const rootList = h('ul', { class: 'tt-list', role: 'tree', 'data-testid': `${testid}-root` });
  const empty = h('p', { class: 'muted hidden', 'data-testid': `${testid}-empty`, text: 'No topic received yet.' });
  const input = h('input', {
    type: 'search', class: 'input input-sm', placeholder: 'Search topics…', 'aria-label': 'Search topics',
    'data-testid': `${testid}-search`,
  });
  const el = h('section', { class: 'card panel live-panel topic-tree', 'data-testid': testid },
    h('header', { class: 'panel-header' },
      h('h3', {}, opts.title || 'Topics', ' ', h('span', { class: 'live-dot', title: 'Live', 'aria-label': 'live' })), input),
    errors, empty, rootList);

  const fetch = (prefix, depth) => callKw(model, opts.method, [[id]], { prefix, depth, search: search || false });

  // A node's row; kids holds its children once expanded.
  function render(n, list) {
    const st = { data: n, expanded: false, kids: null };
    const toggle = h('button', {
      type: 'button', class: 'tt-toggle', 'data-testid': `${testid}-toggle`, 'aria-label': 'Expand',
      text: n.has_children ? '▸' : '', disabled: !n.has_children, onclick: () => (st.expanded ? collapse(st) : expand(st)),
    });
    const name = n.is_topic
      ? h('a', { class: 'tt-name tt-topic', href: historyHref(opts.history, id, n.path), 'data-testid': `${testid}-topic`, text: n.name || '(empty)' })
      : h('span', { class: 'tt-name', text: n.name || '(empty)' });
    st.count = h('span', { class: 'badge badge-info tt-count', 'data-testid': `${testid}-count`, title: 'Messages' });
    st.retain = h('span', { class: 'badge badge-warning tt-retain hidden', 'data-testid': `${testid}-retain`, text: 'retained' });
    st.payload = h('span', { class: 'mono tt-payload', 'data-testid': `${testid}-payload` });
    st.time = h('span', { class: 'muted small tt-time', 'data-testid': `${testid}-time` });
    // Publish to this topic (or level) without typing it.
    const publish = opts.publish ? h('button', {
      type: 'button', class: 'btn btn-sm tt-publish', 'data-testid': `${testid}-publish`, text: 'Publish',
      title: `Publish to ${n.path}`, 'aria-label': `Publish to ${n.path}`,
      onclick: () => opts.publish({ model, id, record, topic: n.path }),
    }) : null;
    st.li = h('li', { class: 'tt-node', role: 'treeitem', 'aria-expanded': n.has_children ? 'false' : false, 'data-testid': `${testid}-node`, 'data-path': n.path },
      h('div', { class: 'tt-row' }, toggle, name, st.count, st.retain, st.payload, st.time, publish));
    st.toggle = toggle;
    paint(st);
    nodes.set(n.path, st);
    list.append(st.li);
    if (n.children) show(st, n.children);
    else if (n.has_children && opened.has(n.path)) expand(st);
    return st;
  }

  function paint(st) {
    const n = st.data;
    st.count.textContent = String(n.count);
    st.retain.classList.toggle('hidden', !n.retain);
    st.payload.textContent = n.is_topic ? short(n.last_payload || '') : '';
    st.payload.title = n.is_topic ? n.last_payload || '' : '';
    st.time.textContent = n.is_topic && n.last_time ? formatDatetime(n.last_time) : '';
  }

  function forget(list) {
    for (const li of list.querySelectorAll('li[data-path]')) nodes.delete(li.dataset.path);
  }

  function show(st, children) {
    if (st.kids) { forget(st.kids); st.kids.remove(); }
    st.kids = h('ul', { class: 'tt-list', role: 'group' });
    children.forEach((c) => render(c, st.kids));
    st.li.append(st.kids);
    st.expanded = true;
    st.li.setAttribute('aria-expanded', 'true');
    st.toggle.textContent = '▾';
    st.toggle.setAttribute('aria-label', 'Collapse');
  }

  async function expand(st) {
    opened.add(st.data.path);
    const mine = seq;
    try {
      const res = await fetch(st.data.path, 1);
      if (mine === seq && nodes.get(st.data.path) === st) show(st, res.nodes);
    } catch (e) {
      replace(errors, errorBox(e));
    }
  }

  function collapse(st) {
    opened.delete(st.data.path);
    if (st.kids) { forget(st.kids); st.kids.remove(); st.kids = null; }
    st.expanded = false;
    st.li.setAttribute('aria-expanded', 'false');
    st.toggle.textContent = '▸';
    st.toggle.setAttribute('aria-label', 'Expand');
  }

  async function loadRoot() {
    const mine = ++seq;
    try {
      const res = await fetch(false, search ? SEARCH_DEPTH : 1);
      if (mine !== seq) return;
      replace(errors);
      forget(rootList);
      rootList.replaceChildren();
      res.nodes.forEach((n) => render(n, rootList));
      empty.textContent = search ? 'No topic matches.' : 'No topic received yet.';
      empty.classList.toggle('hidden', res.nodes.length > 0);
    } catch (e) {
      if (mine === seq) replace(errors, errorBox(e));
    }
  }

  input.addEventListener('input', debounce(() => { search = input.value.trim(); loadRoot(); }, 300));

  // Live: a received message of this broker counts on each visible node
  // on its path, and sets the last values of its own node. A topic not
  // shown yet under an open level reloads that level (at most once a
  // second), or the root.
  let pending = null;
  const refresh = (st) => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      if (!st) loadRoot();
      else if (nodes.get(st.data.path) === st && st.expanded) expand(st);
    }, 1000);
  };
  const { live } = opts;
  bus.addChannel(live.channel);
  const off = bus.on(live.type, (p) => {
    if (!p || p.broker_id !== id || p.direction !== 'receive' || !p.topic) return;
    if (search && !p.topic.toLowerCase().includes(search.toLowerCase())) return;
    const levels = p.topic.split('/');
    let parent = null; // the deepest node shown on the path
    for (let i = 1; i <= levels.length; i++) {
      const path = levels.slice(0, i).join('/');
      const st = nodes.get(path);
      if (!st) {
        if (!parent || parent.expanded) refresh(parent);
        return;
      }
      st.data.count += 1;
      if (i === levels.length) {
        Object.assign(st.data, { is_topic: true, last_payload: p.payload, last_time: p.timestamp, retain: p.retain, qos: p.qos });
      } else if (!st.data.has_children) {
        st.data.has_children = true;
        st.toggle.disabled = false;
        st.toggle.textContent = '▸';
      }
      paint(st);
      st.li.classList.remove('tt-flash');
      void st.li.offsetWidth; // restart the highlight
      st.li.classList.add('tt-flash');
      parent = st;
    }
  });

  if (id) loadRoot();
  return {
    el,
    update: (r) => { record = r || record; },
    destroy: () => {
      clearTimeout(pending);
      off();
    },
  };
}
