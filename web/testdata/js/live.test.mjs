import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshness } from '../../static/live.js';

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
