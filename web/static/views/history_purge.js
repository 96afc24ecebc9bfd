// Purging message history: the count first (search_count), a
// confirmation naming it, then mqtt.signal.history.purge(domain), which
// deletes server-side in chunks and answers how many rows went. Only MQTT
// managers may (the server refuses others); the buttons show only to
// those who may unlink the history, which is the same group.
import { confirmDialog, toast } from '../dom.js';
import { orm, callKw } from '../rpc.js';

export const HISTORY = 'mqtt.signal.history';

let right = null; // the last answer of check_access_rights('unlink'), or null
refreshPurgeRight();

/** canPurge is what is known of the right, refreshing it in the background. */
export function canPurge() {
  refreshPurgeRight();
  return right === true;
}

/** refreshPurgeRight asks the server again; resolves to the answer. */
export function refreshPurgeRight() {
  return orm.canDo(HISTORY, 'unlink').then((v) => { right = v === true; return right; }, () => false);
}

const plural = (n) => `${n} message${n === 1 ? '' : 's'}`;

/**
 * purgeHistory counts the rows of domain, asks with that count (what
 * describes where they come from), deletes them. Resolves to the number
 * deleted, or null when cancelled or there was nothing to delete.
 */
export async function purgeHistory(domain, what) {
  const count = await orm.searchCount(HISTORY, domain);
  if (count === 0) {
    toast({ message: `No message to purge ${what}.` });
    return null;
  }
  const ok = await confirmDialog(`Purge ${plural(count)} ${what}? They are deleted from the history for good; this cannot be undone.`,
    { title: 'Purge history', ok: `Purge ${plural(count)}` });
  if (!ok) return null;
  const n = await callKw(HISTORY, 'purge', [domain]);
  toast({ type: 'success', message: `${plural(n)} purged.` });
  return n;
}

/**
 * historyListPurge is what a history list declares as list.purge: the
 * list's Purge button calls its run(domain, what). A class, so that its
 * method is no own property: the view snapshot calls every function it
 * finds in a declaration with sample records.
 */
class HistoryListPurge {
  run(domain, what) { return purgeHistory(domain, what); }
}
export const historyListPurge = new HistoryListPurge();

/** purgeBrokerButton is the broker form's "Purge history" button (a client button). */
export const purgeBrokerButton = {
  method: 'purge_history', label: 'Purge history',
  visible: (r) => Boolean(r.id) && canPurge(),
  client: async ({ id, record, form }) => {
    try {
      if (await purgeHistory([['broker_id', '=', id]], `of broker “${record.name}”`) !== null) await form.reload();
    } catch (e) {
      form.showError(e);
    }
  },
};
