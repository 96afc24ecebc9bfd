// What the MQTT views share: the QoS and retain handling selections of
// integer fields, and the rule that shows MQTT 5 only fields read-only,
// with a hint, unless the broker speaks MQTT 5 (3.1/3.1.1 ignore them).
import { intSelection } from '../fields.js';

export const qosWidget = intSelection([[0, '0 · At most once'], [1, '1 · At least once'], [2, '2 · Exactly once']]);

export const retainHandlingWidget = intSelection([[0, '0 · Send on subscribe'], [1, '1 · Only for a new subscription'], [2, '2 · Never']]);

export const v5Hint = 'MQTT 5 only: ignored by MQTT 3.1 and 3.1.1 brokers.';

/**
 * v5Only is the form's readonly rules for fields: read-only, with the
 * hint, while protocol(values) is not MQTT 5.
 */
export function v5Only(fields, protocol) {
  const rule = { when: (r) => protocol(r) !== 'MQTTv5', hint: v5Hint };
  return Object.fromEntries(fields.map((f) => [f, rule]));
}

export const v3Hint = 'MQTT 3.1/3.1.1 only: an MQTT 5 connection keeps its in-flight messages in memory.';

/** v3Only is the mirror of v5Only, for the fields MQTT 5 connections ignore. */
export function v3Only(fields, protocol) {
  const rule = { when: (r) => protocol(r) === 'MQTTv5', hint: v3Hint };
  return Object.fromEntries(fields.map((f) => [f, rule]));
}
