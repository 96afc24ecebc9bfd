import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshness, noteRecord } from '../../static/live.js';

const n = (timestamp, topic, payload = '1') => ({ timestamp, topic, payload, direction: 'receive' });

test('notes already loaded are skipped, new ones pass', () => {
  const fresh = freshness([n('2026-01-01 10:00:02', 'a'), n('2026-01-01 10:00:02', 'a'), n('2026-01-01 10:00:01', 'b')]);
  const cases = [
    [n('2026-01-01 10:00:01', 'b'), false, 'older than the newest loaded row'],
    [n('2026-01-01 10:00:02', 'a'), false, 'first copy of a loaded row'],
    [n('2026-01-01 10:00:02', 'a'), false, 'second copy of a loaded row'],
    [n('2026-01-01 10:00:02', 'a'), true, 'a third message of the same second'],
    [n('2026-01-01 10:00:02', 'c'), true, 'another topic in the same second'],
    [n('2026-01-01 10:00:03', 'a'), true, 'newer'],
    [n('2026-01-01 10:00:03', 'a'), true, 'a repeat in a newer second is news'],
    [{ topic: 'x' }, false, 'no timestamp'],
  ];
  for (const [note, want, why] of cases) assert.equal(fresh(note), want, why);
});

test('with nothing loaded every note is news', () => {
  const fresh = freshness([]);
  assert.equal(fresh(n('2026-01-01 10:00:00', 'a')), true);
  assert.equal(fresh(n('2026-01-01 10:00:00', 'a')), true);
});

test('noteRecord shapes a note like a read() row', () => {
  const fields = {
    topic: { type: 'char' }, qos: { type: 'integer' },
    broker_id: { type: 'many2one', relation: 'b' }, signal_id: { type: 'many2one', relation: 's' },
    subscription_id: { type: 'many2one', relation: 'u' },
  };
  const names = { 'b:3': 'Broker 3' };
  const note = { topic: 't', qos: 1, broker_id: 3, signal_id: 7, subscription_id: false, extra: 'x' };
  assert.deepEqual(noteRecord(note, fields, (m, id) => names[`${m}:${id}`]),
    { topic: 't', qos: 1, broker_id: [3, 'Broker 3'], signal_id: [7, '#7'], subscription_id: false, extra: 'x' });
  assert.deepEqual(noteRecord(note, fields).broker_id, [3, '#3'], 'no names: #id');
  const shaped = { broker_id: [3, 'B'] };
  assert.deepEqual(noteRecord(shaped, fields), shaped, 'already shaped values are kept');
  assert.deepEqual(noteRecord(null, fields), {});
});
