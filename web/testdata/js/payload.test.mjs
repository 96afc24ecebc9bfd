import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hexDump, lineDiff, textOf, jsonOf, comparable } from '../../static/payload_view.js';
import { jsonProblem, hexProblem, base64Problem } from '../../static/publish_dialog.js';

test('hexDump: offset, hex in two halves, ASCII', () => {
  const bytes = new Uint8Array([0x00, 0x41, 0x42, 0xff, 0x0a, 0x20, 0x7e, 0x7f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38]);
  assert.equal(hexDump(bytes),
    '00000000  00 41 42 ff 0a 20 7e 7f  30 31 32 33 34 35 36 37  |.AB.. ~.01234567|\n'
    + '00000010  38                                                |8|');
  assert.equal(hexDump(new Uint8Array(40), 16).split('\n').pop(), '… 24 more bytes (download to see them all)');
});

test('lineDiff keeps common lines and marks the others', () => {
  const ops = lineDiff('a\nb\nc', 'a\nx\nc\nd').map((d) => d.op + d.line);
  assert.deepEqual(ops, [' a', '-b', '+x', ' c', '+d']);
  assert.deepEqual(lineDiff('same', 'same'), [{ op: ' ', line: 'same' }]);
});

test('textOf refuses bytes that are not UTF-8 or hold NUL; jsonOf only objects and arrays', () => {
  assert.equal(textOf(new TextEncoder().encode('héllo')), 'héllo');
  assert.equal(textOf(new Uint8Array([0xff, 0xfe])), null);
  assert.equal(textOf(new Uint8Array([0x61, 0x00])), null);
  assert.deepEqual(jsonOf(' {"a": [1]} '), { a: [1] });
  assert.equal(jsonOf('21.5'), undefined);
  assert.equal(jsonOf('{nope'), undefined);
});

test('comparable: pretty JSON, text, the hex dump of bytes', () => {
  assert.equal(comparable({ payload: '{"a":1}' }), '{\n  "a": 1\n}');
  assert.equal(comparable({ payload: 'plain' }), 'plain');
  assert.match(comparable({ payload: '\uFFFD', payload_raw: '3q2+7w==' }), /^00000000  de ad be ef/);
});

test('the dialog checks JSON, hex and base64 as the server does', () => {
  assert.equal(jsonProblem('{"a": 1}'), '');
  assert.match(jsonProblem('{"a": 1,\n}'), /^Not valid JSON/);
  assert.match(jsonProblem('  '), /empty/);
  assert.equal(hexProblem('de ad:BE ef'), '');
  assert.match(hexProblem('abc'), /odd/);
  assert.match(hexProblem('zz'), /Not valid hex/);
  assert.equal(base64Problem('AAEC/w=='), '');
  assert.match(base64Problem('!!!'), /Not valid base64/);
});
