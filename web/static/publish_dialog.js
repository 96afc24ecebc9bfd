// The Publish dialog of a broker (issue 13, "publish anything"): any
// topic, a payload typed as text, JSON (checked and pretty-printed here
// before it goes), base64 or hex, QoS, retain, and on an MQTT 5 broker
// the PUBLISH properties. The button's method (action_publish) sends it the way a
// signal is sent and keeps it in Send History; the dialog shows the
// server's answer or its error.
import { h, dialog } from './dom.js';
import { callButton } from './rpc.js';
import { useStyle } from './payload_style.js';

const ENCODINGS = [['text', 'Text'], ['json', 'JSON'], ['base64', 'Base64'], ['hex', 'Hex']];

/**
 * jsonProblem says why text is not one JSON value ('' when it is), with
 * the line and column the browser's parser stopped at when it tells.
 */
export function jsonProblem(text) {
  if (!text.trim()) return 'Not valid JSON: empty.';
  try {
    JSON.parse(text);
    return '';
  } catch (e) {
    const m = /position (\d+)/.exec(e.message);
    if (!m) return `Not valid JSON: ${e.message}`;
    const before = text.slice(0, Number(m[1]));
    const line = before.split('\n').length;
    const col = before.length - before.lastIndexOf('\n');
    return `Not valid JSON at line ${line}, column ${col}: ${e.message}`;
  }
}

/** hexProblem and base64Problem check the other encodings as the server does. */
export function hexProblem(text) {
  const clean = text.replace(/[\s:]/g, '').replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]*$/.test(clean)) return 'Not valid hex: only 0-9, a-f, spaces and colons.';
  return clean.length % 2 ? 'Not valid hex: an odd number of digits (two a byte).' : '';
}

export function base64Problem(text) {
  const clean = text.replace(/\s/g, '');
  return /^[A-Za-z0-9+/]*={0,2}$/.test(clean) && clean.length % 4 === 0 ? '' : 'Not valid base64.';
}

const problems = { json: jsonProblem, hex: hexProblem, base64: base64Problem };

// field is one labelled row of the dialog.
function field(label, input) {
  return h('label', { class: 'publish-row' }, h('span', { class: 'publish-label', text: label }), input);
}

/**
 * publishDialog is the client of the broker form's Publish button:
 * {method: 'action_publish', client: publishDialog}. It needs a saved
 * broker (the form saves first); record.protocol decides whether the
 * MQTT 5 properties are shown. Other pages (a topic tree) may open it
 * with {model, id, record: {name, protocol}, button: {method:
 * 'action_publish'}, topic} to start from that topic.
 */
export function publishDialog({ model, id, record, button, topic: initialTopic = '' }) {
  useStyle();
  const v5 = record.protocol === 'MQTTv5';
  const topic = h('input', { type: 'text', id: 'publish-topic', 'data-testid': 'publish-topic', placeholder: 'plant/line1/cmd', autocomplete: 'off', value: initialTopic });
  const encoding = h('select', { id: 'publish-encoding', 'data-testid': 'publish-encoding' },
    ENCODINGS.map(([v, l]) => h('option', { value: v, text: l })));
  const payload = h('textarea', { id: 'publish-payload', 'data-testid': 'publish-payload', rows: '8', spellcheck: 'false', class: 'pl-mono' });
  const problem = h('div', { class: 'publish-problem pl-danger', 'data-testid': 'publish-problem', 'aria-live': 'polite' });
  const format = h('button', { type: 'button', class: 'btn pl-btn-sm', 'data-testid': 'publish-format', text: 'Pretty-print', onclick: () => pretty() });
  const qos = h('select', { id: 'publish-qos', 'data-testid': 'publish-qos' },
    ['0', '1', '2'].map((q) => h('option', { value: q, text: q })));
  const retain = h('input', { type: 'checkbox', id: 'publish-retain', 'data-testid': 'publish-retain' });
  const result = h('div', { class: 'publish-result', 'data-testid': 'publish-result', 'aria-live': 'polite' });

  const props = {
    content_type: h('input', { type: 'text', 'data-testid': 'publish-content_type', placeholder: 'application/json' }),
    response_topic: h('input', { type: 'text', 'data-testid': 'publish-response_topic' }),
    correlation_data: h('input', { type: 'text', 'data-testid': 'publish-correlation_data' }),
    user_properties: h('textarea', { rows: '2', class: 'pl-mono', 'data-testid': 'publish-user_properties', placeholder: '[["unit", "C"]]' }),
    message_expiry: h('input', { type: 'number', min: '0', 'data-testid': 'publish-message_expiry', placeholder: '0' }),
  };
  const v5Box = v5 ? h('fieldset', { class: 'publish-v5', 'data-testid': 'publish-v5' },
    h('legend', { text: 'MQTT 5 properties' }),
    field('Content type', props.content_type), field('Response topic', props.response_topic),
    field('Correlation data', props.correlation_data), field('User properties', props.user_properties),
    field('Message expiry (s)', props.message_expiry)) : null;

  // check shows what is wrong with the payload for its encoding; JSON is
  // pretty-printed once valid when the textarea is left.
  const check = () => {
    const f = problems[encoding.value];
    const msg = f ? f(payload.value) : '';
    problem.textContent = msg;
    format.hidden = encoding.value !== 'json';
    return msg;
  };
  const pretty = () => {
    if (encoding.value !== 'json' || jsonProblem(payload.value)) return;
    payload.value = JSON.stringify(JSON.parse(payload.value), null, 2);
    check();
  };
  payload.addEventListener('input', check);
  payload.addEventListener('blur', pretty);
  encoding.addEventListener('change', () => { check(); pretty(); });

  const properties = () => {
    if (!v5) return false;
    const out = {};
    for (const [k, el] of Object.entries(props)) {
      const v = el.value.trim();
      if (!v) continue;
      out[k] = k === 'message_expiry' ? Number(v) : k === 'user_properties' ? v : el.value;
    }
    return out;
  };
  const send = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'publish-send', text: 'Publish', onclick: () => publish() });
  const publish = async () => {
    result.replaceChildren();
    result.dataset.state = '';
    if (!topic.value.trim()) {
      show('error', 'A topic is required.');
      return;
    }
    if (check()) {
      show('error', problem.textContent);
      return;
    }
    send.disabled = true;
    send.classList.add('busy');
    try {
      const res = await callButton(model, button.method, [[id], topic.value.trim(), payload.value, encoding.value,
        Number(qos.value), retain.checked, properties()], {});
      const msg = res && res.params ? res.params.message : 'Published.';
      show('ok', msg);
    } catch (e) {
      show('error', e.message || String(e));
    } finally {
      send.disabled = false;
      send.classList.remove('busy');
    }
  };
  const show = (state, text) => {
    result.dataset.state = state;
    result.className = ['publish-result', state === 'ok' ? 'pl-ok' : 'pl-danger'].join(' ');
    result.textContent = text;
  };

  const d = dialog({
    title: `Publish on ${record.name || 'the broker'}`,
    testid: 'publish-dialog',
    body: [
      field('Topic', topic),
      h('div', { class: 'publish-inline' }, field('Encoding', encoding), field('QoS', qos),
        h('label', { class: 'publish-check' }, retain, ' Retain'), format),
      field('Payload', payload), problem, v5Box, result,
    ],
    buttons: [send, h('button', { type: 'button', class: 'btn', 'data-testid': 'publish-close', text: 'Close', onclick: () => d.close() })],
  });
  d.el.classList.add('dialog-wide');
  check();
  topic.focus();
  return d;
}
