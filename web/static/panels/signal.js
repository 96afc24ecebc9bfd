// Panels of a signal's form: its history (live), and the Auto send
// client action of the addon (seed-addon §2.4).
import { h, dialog, toast, formatTime } from '../dom.js';
import { bus } from '../bus.js';
import { callButton } from '../rpc.js';
import { smallList } from '../small_list.js';
import { liveHistoryRecord } from './broker.js';

/** signalHistory lists the signal's send/receive history, newest first. */
export function signalHistory({ id }) {
  const list = smallList({
    title: 'Send/receive history', model: 'mqtt.signal.history', domain: [['signal_id', '=', id]],
    columns: ['timestamp', 'direction', 'payload', 'qos', 'retain'], widgets: { direction: 'badge' },
    limit: 10, live: true, testid: 'signal-history', emptyText: 'Not sent yet.',
    href: (r) => `#/${r.direction === 'send' ? 'send-history' : 'received-history'}/${r.id}`,
  });
  bus.addChannel('mqtt_realtime');
  const off = bus.on('mqtt_message', (p) => {
    if (p && p.signal_id === id) list.prepend(liveHistoryRecord(p));
  });
  return { el: list.el, update: () => {}, destroy: off };
}

const AUTO_SEND_PAUSE = 1000; // the addon waits 1 s after each send finishes

/**
 * autoSend is the addon's "Auto sent" dialog: it calls action_send_mqtt
 * through call_button once, then again 1 s after each call finishes,
 * counting, until Stop or close.
 */
export function autoSend({ model, id, form }) {
  let count = 0;
  let running = true;
  let timer = null;
  const counter = h('strong', { 'data-testid': 'autosend-count', text: '0' });
  const last = h('span', { 'data-testid': 'autosend-last', text: '—' });
  const status = h('p', { class: 'muted', 'data-testid': 'autosend-status', text: 'Sending…' });
  const stop = () => {
    if (!running) return;
    running = false;
    clearTimeout(timer);
    d.close();
  };
  const d = dialog({
    title: 'Auto send',
    testid: 'autosend-dialog',
    body: [
      h('p', { class: 'autosend-counter' }, 'Sent: ', counter, ' Times'),
      h('p', {}, 'Last sent at ', last),
      status,
    ],
    buttons: [h('button', { type: 'button', class: 'btn btn-danger', 'data-testid': 'autosend-stop', text: 'Stop auto-send', onclick: stop })],
    onClose: () => {
      running = false;
      clearTimeout(timer);
      toast({ title: 'Auto send', message: `Stopped after sending ${count} MQTT message(s)`, type: 'info' });
      form.reload();
    },
  });
  const once = async () => {
    if (!running) return;
    try {
      await callButton(model, 'action_send_mqtt', [[id]], {});
      if (!running) return;
      count++;
      counter.textContent = String(count);
      last.textContent = formatTime(new Date());
      status.textContent = 'Sending every second…';
      status.classList.remove('text-danger');
    } catch (e) {
      if (!running) return;
      status.textContent = e.message;
      status.classList.add('text-danger');
    }
    if (running) timer = setTimeout(once, AUTO_SEND_PAUSE);
  };
  once();
}
