// Unit tests of pinned.js (the eq.<field> filters of a list's route)
// and of the topic tree's history links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pinnedFrom, pinnedDomain, pinnedMatch, pinnedParams } from '../../static/pinned.js';
import { historyHref } from '../../static/panels/topic_tree.js';

const fields = {
  topic: { type: 'char', string: 'Topic' },
  broker_id: { type: 'many2one', string: 'Broker' },
  retain: { type: 'boolean', string: 'Retain' },
};

test('pins come from eq.<field> of known fields, typed by the field', () => {
  const q = new URLSearchParams('q=x&eq.topic=a/b&eq.broker_id=3&eq.retain=true&eq.nope=1&eq.broker_id=zz');
  const pins = pinnedFrom(q, fields);
  assert.deepEqual(pins.map((p) => [p.field, p.value]), [['topic', 'a/b'], ['broker_id', 3], ['retain', true]]);
  assert.deepEqual(pinnedDomain(pins), [['topic', '=', 'a/b'], ['broker_id', '=', 3], ['retain', '=', true]]);
  assert.equal(pinnedMatch(pins, { topic: 'a/b', broker_id: 3, retain: true }), true);
  assert.equal(pinnedMatch(pins, { topic: 'a/b/c', broker_id: 3, retain: true }), false);
  const p = new URLSearchParams();
  pinnedParams(pins, p);
  assert.equal(p.toString(), 'eq.topic=a%2Fb&eq.broker_id=3&eq.retain=true');
});

test('a topic of the tree links to its history, pinned', () => {
  const href = historyHref('received-history', 7, 'plant/a b');
  assert.equal(href, '#/received-history?eq.topic=plant%2Fa+b&eq.broker_id=7');
  const q = new URLSearchParams(href.split('?')[1]);
  assert.deepEqual(pinnedFrom(q, fields).map((p) => p.value), ['plant/a b', 7]);
});
