// The Auto send client action (seed-addon §2.4): a dialog that calls a
// button method of the record again and again.
import { h, dialog, toast, formatTime } from '../dom.js';
import { callButton } from '../rpc.js';

const AUTO_SEND_PAUSE = 1000; // the addon waits 1 s after each send finishes

/**
 * autoSend is the addon's "Auto sent" dialog: it calls the button's
 * sends method through call_button once, then again 1 s after each call
 * finishes, counting, until Stop or close. The button declares it:
 * {method, label, client: autoSend, sends: '<method>'}.
 */
export function autoSend({ model, id, form, button }) {
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
      await callButton(model, button.sends, [[id]], {});
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
