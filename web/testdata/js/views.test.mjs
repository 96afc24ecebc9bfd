// The view registry: one file per model in static/views/, assembled by
// views/index.js through registry.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildRegistry } from '../../static/registry.js';
import * as reg from '../../static/views/index.js';
import { realtime, listener, devices, rules } from '../../static/channels.js';
import { resultRows } from '../../static/panels/try_method.js';
import { snapshot } from './view_snapshot.mjs';

// The snapshot was taken of views.js before the split by model; see
// view_snapshot.mjs to rewrite it after a deliberate change.
test('the registry matches views.snapshot.json', () => {
  const want = JSON.parse(readFileSync(new URL('./views.snapshot.json', import.meta.url)));
  assert.deepEqual(JSON.parse(JSON.stringify(snapshot(reg))), want,
    'a view declaration changed: if on purpose, run node testdata/js/view_snapshot.mjs > testdata/js/views.snapshot.json');
  assert.equal(reg.home, 'mqtt.broker');
});

test('the history actions tail the realtime channel, each its direction', () => {
  for (const [name, direction] of [['send-history', 'send'], ['received-history', 'receive']]) {
    const { live } = reg.actions[name];
    assert.equal(live.channel, realtime.channel);
    assert.equal(live.type, realtime.message);
    assert.deepEqual(live.key, ['topic', 'timestamp']);
    assert.equal(live.match({ direction }), true, name);
    assert.equal(live.match({ direction: direction === 'send' ? 'receive' : 'send' }), false, name);
  }
  assert.deepEqual(reg.actions['iot.device'].refreshOn, { channel: devices.channel, type: devices.update });
  for (const [name, a] of Object.entries(reg.actions)) {
    if (!['send-history', 'received-history'].includes(name)) assert.equal(a.live, undefined, name);
  }
});

test('the broker form warns before a save that clears its secrets', () => {
  const [warn] = reg.views['mqtt.broker'].form.warnings;
  assert.equal(warn.name, 'secrets-cleared');
  // Secrets read as false; one typed again is a string.
  const saved = { id: 1, url_scheme: 'mqtts://', host: 'broker.plant', port: '8883', tls_server_name: false, password: false, client_key: false, ws_headers: false };
  const cases = [
    [{ ...saved }, false, 'nothing changed'],
    [{ ...saved, name: 'Renamed', keepalive: 30 }, false, 'other fields'],
    [{ ...saved, host: 'listener.example' }, true, 'host'],
    [{ ...saved, port: '1884' }, true, 'port'],
    [{ ...saved, url_scheme: 'ws://' }, true, 'scheme'],
    [{ ...saved, tls_server_name: 'x' }, true, 'TLS server name'],
    [{ ...saved, host: 'x', password: 'p' }, true, 'one secret typed again'],
    [{ ...saved, host: 'x', password: 'p', client_key: 'k', ws_headers: 'h' }, false, 'every secret typed again'],
  ];
  for (const [edited, want, what] of cases) assert.equal(warn.when(edited, saved), want, what);
  assert.equal(warn.when({ id: false, host: 'x' }, {}), false, 'a new broker has nothing to clear');
});

test('panels are declared with their options', () => {
  const panels = (model) => reg.views[model].form.panels.map(({ panel, ...opts }) => ({ name: panel.name, ...opts }));
  const broker = panels('mqtt.broker');
  assert.deepEqual(broker.map((p) => p.name), ['relatedList', 'liveList', 'topicTree']);
  assert.equal(broker[2].method, 'get_topic_tree');
  assert.equal(broker[2].history, 'received-history');
  assert.deepEqual(broker[2].live, { channel: realtime.channel, type: realtime.message });
  assert.equal(broker[0].model, 'mqtt.subscription');
  assert.equal(broker[0].action, 'mqtt.subscription');
  assert.deepEqual(broker[1].live, { channel: realtime.channel, type: realtime.message });
  assert.deepEqual(broker[1].reloadOn, { channel: listener.channel, type: listener.state });
  assert.equal(broker[1].href({ id: 5, direction: 'send' }), '#/send-history/5');
  assert.equal(broker[1].href({ id: 6, direction: 'receive' }), '#/received-history/6');
  assert.equal(broker[1].moreHref({ name: 'a b' }), '#/received-history?q=a%20b');

  const signal = panels('mqtt.signal');
  assert.deepEqual(signal.map((p) => [p.name, p.field, p.testid]), [['liveList', 'signal_id', 'signal-history']]);
  assert.equal(reg.views['mqtt.signal'].form.buttons[1].sends, 'action_send_mqtt');

  const service = panels('mqtt.service');
  assert.deepEqual(service, [{
    name: 'listenerRegistry', method: 'get_listener_status', checkMethod: 'check_mqtt_status',
    brokerAction: 'mqtt.broker', refreshOn: { channel: listener.channel, type: listener.state },
  }, { name: 'instancesPanel', method: 'get_instances' }]);

  const device = panels('iot.device');
  assert.deepEqual(device.map((p) => p.name), ['deviceValues', 'sensorCharts', 'deviceActions', 'deviceCommands', 'deviceEvents', 'devicePushConfig']);
  assert.deepEqual(device[0].live, { channel: devices.channel, event: devices.event, update: devices.update });
  assert.deepEqual([device[1].method, device[1].live], ['get_sensor_series', { channel: devices.channel, event: devices.event }]);
  assert.deepEqual([device[3].model, device[3].field, device[3].method], ['iot.command', 'device_id', 'call_async']);
  assert.deepEqual(device[3].live, { channel: devices.channel, type: devices.command });
  assert.equal(device[3].href({ id: 7 }), '#/iot.command/7');
  assert.equal(device[5].method, 'push_config');
});

test('buildRegistry builds the menu in registration order', () => {
  const r = buildRegistry([
    { model: 'a', actions: { a: { title: 'A', menu: ['S', 'T'] }, a2: { title: 'A2' } } },
    { model: 'b', actions: { bb: { title: 'B', menu: ['S'], menuLabel: 'Bees', domain: [['x', '=', 1]] } } },
    { model: 'c', actions: { c: { title: 'C', menu: [] }, c1: { title: 'C1', menu: ['S', 'T'] } }, opens: 'c1' },
  ]);
  assert.deepEqual(r.menu, [
    { label: 'S', children: [{ label: 'T', children: [{ label: 'A', action: 'a' }, { label: 'C1', action: 'c1' }] }, { label: 'Bees', action: 'bb' }] },
    { label: 'C', action: 'c' },
  ]);
  assert.deepEqual(r.actions.bb, { model: 'b', view: 'b', title: 'B', domain: [['x', '=', 1]] });
  assert.deepEqual(r.actions.a2, { model: 'a', view: 'a', title: 'A2' });
  assert.equal(r.views.b.model, 'b');
  assert.equal(r.home, 'a');
  assert.equal(r.actionForModel('a'), 'a');
  assert.equal(r.actionForModel('b'), null, 'no action named after the model');
  assert.equal(r.actionForModel('c'), 'c1');
  assert.equal(r.actionForModel('z'), null);
});

test('buildRegistry refuses inconsistent declarations', () => {
  assert.throws(() => buildRegistry([{ actions: {} }]), /needs a model/);
  assert.throws(() => buildRegistry([{ model: 'a' }, { model: 'a' }]), /declared twice/);
  assert.throws(() => buildRegistry([{ model: 'a', actions: { x: {} } }, { model: 'b', actions: { x: {} } }]), /action x is declared twice/);
  assert.throws(() => buildRegistry([{ model: 'a', opens: 'nope' }]), /opens nope/);
});

test('the rule form shows what its trigger, operator and action use', () => {
  const { invisible } = reg.views['mqtt.rule'].form;
  const shown = (r) => Object.keys(invisible).filter((f) => !invisible[f](r)).sort();
  const cases = [
    [{ trigger: 'message', operator: '>', action: 'publish' }, ['action_payload', 'action_qos', 'action_retain', 'action_topic', 'hysteresis', 'json_path', 'operator', 'value']],
    [{ trigger: 'message', operator: 'any', action: 'send_signal' }, ['json_path', 'operator', 'signal_id']],
    [{ trigger: 'message', operator: 'changed', action: 'device_action' }, ['device_action', 'device_id', 'json_path', 'operator', 'params']],
    [{ trigger: 'message', operator: 'regex', action: 'device_command' }, ['device_action', 'device_id', 'json_path', 'operator', 'params', 'value']],
    [{ trigger: 'device_offline', operator: '>', action: 'notify' }, ['action_payload']],
    [{ trigger: 'interval', operator: '<=', action: 'publish' }, ['action_payload', 'action_qos', 'action_retain', 'action_topic', 'interval']],
    [{}, ['json_path', 'operator']],
  ];
  for (const [r, want] of cases) assert.deepEqual(shown(r), want, JSON.stringify(r));
});

test('the rule pages follow the rules channel', () => {
  for (const name of ['mqtt.rule', 'mqtt.rule.log']) {
    assert.deepEqual(reg.actions[name].refreshOn, { channel: rules.channel, type: rules.fired }, name);
  }
  const panels = reg.views['mqtt.rule'].form.panels.map(({ panel, ...opts }) => ({ name: panel.name, ...opts }));
  assert.deepEqual(panels.map((p) => p.name), ['tryMethod', 'liveCounter', 'relatedList']);
  assert.equal(panels[0].method, 'action_test');
  assert.deepEqual(panels[0].inputs.map((i) => i.name), ['topic', 'payload']);
  assert.equal(panels[0].inputs[0].initial({ topic_filter: 'plant/+/temp/#' }), 'plant/x/temp/x');
  assert.equal(panels[0].inputs[0].initial({ topic_filter: false }), '');
  assert.deepEqual(panels[1].live, { channel: rules.channel, type: rules.fired });
  assert.equal(panels[1].count, 'fire_count');
  assert.deepEqual([panels[2].model, panels[2].field, panels[2].action], ['mqtt.rule.log', 'rule_id', 'mqtt.rule.log']);
  assert.deepEqual(reg.menu.find((m) => m.label === 'Automation').children.map((c) => c.action), ['mqtt.rule', 'mqtt.rule.log']);
});

test('a test result reads as labelled rows', () => {
  const rows = resultRows({ error: false, matched: true, would_fire: false, value: 29.5, params: { state: 'on' }, payload: '', extra: 'x' },
    reg.views['mqtt.rule'].form.panels[0].rows);
  assert.deepEqual(rows.map((r) => [r.key, r.text, r.tone]), [
    ['matched', 'Yes', 'success'], ['value', '29.5', null], ['would_fire', 'No', 'muted'], ['payload', '—', null],
    ['params', '{"state":"on"}', null], ['error', '—', null], ['extra', 'x', null],
  ]);
  assert.equal(rows[0].label, 'Topic matches');
  assert.deepEqual(resultRows(true).map((r) => [r.key, r.text]), [['result', 'Yes']]);
  assert.deepEqual(resultRows({ matched: false }, [['matched', 'M', 'bool']]).map((r) => r.text), ['No']);
});
