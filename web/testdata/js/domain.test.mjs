// Unit tests of the pages' pure modules, run by node's test runner
// (go test ./web runs them when node is installed: see js_test.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { or, and, searchDomain, filterDomain } from '../../static/domain.js';

test('or and and use prefix operators', () => {
  const a = [['a', '=', 1]];
  const b = [['b', '=', 2]];
  const c = [['c', '=', 3]];
  assert.deepEqual(or([a, b, c]), ['|', '|', ['a', '=', 1], ['b', '=', 2], ['c', '=', 3]]);
  assert.deepEqual(and([a, [], b]), ['&', ['a', '=', 1], ['b', '=', 2]]);
  assert.deepEqual(or([]), []);
  assert.deepEqual(and([a]), a);
});

test('searchDomain ORs ilike over the search fields', () => {
  assert.deepEqual(searchDomain('  x ', ['name', 'host']), ['|', ['name', 'ilike', 'x'], ['host', 'ilike', 'x']]);
  assert.deepEqual(searchDomain('', ['name']), []);
  assert.deepEqual(searchDomain('x', []), []);
});

test('filterDomain ORs within a group and ANDs across groups', () => {
  const filters = [
    { name: 'x', domain: [['a', '=', 1]], group: 'g' },
    { name: 'y', domain: [['b', '=', 1]], group: 'g' },
    { name: 'z', domain: ['|', ['c', '=', 1], ['d', '=', 1]] },
  ];
  assert.deepEqual(filterDomain(filters, new Set(['x', 'y', 'z'])),
    ['&', '|', ['a', '=', 1], ['b', '=', 1], '|', ['c', '=', 1], ['d', '=', 1]]);
  assert.deepEqual(filterDomain(filters, new Set(['z'])), ['|', ['c', '=', 1], ['d', '=', 1]]);
  assert.deepEqual(filterDomain(filters, new Set()), []);
});
