// Measurements, not pass/fail on speed: time to first diagram and autoplay frame times.
// Written to e2e/artifacts/perf.json and printed by scripts/report.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { start, stop, newPage, ARTIFACTS } from './harness.mjs';
import path from 'node:path';

let env;
const perf = {};
before(async () => { env = await start(); });
after(async () => {
  fs.writeFileSync(`${ARTIFACTS}/perf.json`, JSON.stringify(perf));
  await stop(env);
});

test('first diagram is drawn after navigation (measured)', async () => {
  const page = await newPage(env.browser);
  const times = [];
  for (let i = 0; i < 3; i++) {
    await page.goto(env.base + '/lesson/replication-lag?step=6', { waitUntil: 'commit' });
    await page.locator('svg.diagram .lifeline').first().waitFor({ state: 'attached' });
    times.push(await page.evaluate(() => performance.now()));
  }
  times.sort((a, b) => a - b);
  perf.first_diagram_ms_median = Math.round(times[1]);
  assert.ok(times[1] > 0);
  assert.deepEqual(page.errors(), []);
});

test('autoplay with 7 nodes and 500+ messages on screen (frame times measured)', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lab/busy-cluster');
  await page.locator('svg.diagram .lifeline').first().waitFor({ state: 'attached' });
  const lifelines = await page.locator('svg.diagram .lifeline').count();
  assert.equal(lifelines, 7);
  await page.getByRole('button', { name: 'Go to end' }).click();
  const messages = await page.locator('svg.diagram g.message:not(.future)').count();
  assert.ok(messages >= 500, `expected ≥ 500 messages on screen, got ${messages}`);
  perf.autoplay_messages = messages;
  await page.keyboard.press('Home');
  await page.getByRole('combobox', { name: 'Speed' }).selectOption({ label: '4×' });
  await page.evaluate(() => {
    window.__frames = [];
    let last = performance.now();
    const tick = (t) => { window.__frames.push(t - last); last = t; if (window.__frames.length < 400) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
  await page.getByRole('button', { name: 'Play' }).click();
  await page.waitForFunction(() => window.__frames.length >= 240, null, { timeout: 30000 });
  const frames = await page.evaluate(() => window.__frames.slice(20));
  frames.sort((a, b) => a - b);
  perf.autoplay_frame_ms_p50 = Number(frames[Math.floor(frames.length * 0.5)].toFixed(1));
  perf.autoplay_frame_ms_p95 = Number(frames[Math.floor(frames.length * 0.95)].toFixed(1));
  assert.ok(frames.length > 100);
  assert.deepEqual(page.errors(), []);
});

// The linearizability checker's benchmark in WASM: the same histories `distlab check bench`
// times natively (Porcupine's 102 etcd logs as a cas-register, its kv logs per key).
const TESTDATA = process.env.DISTLAB_TESTDATA || path.resolve('../shared/testdata');
const haveTestdata = fs.existsSync(path.join(TESTDATA, 'porcupine/EXPECTED.tsv'));

test('linearizability checker in WASM: etcd and kv histories (measured)', { skip: !haveTestdata && `testdata absent (${TESTDATA}); set DISTLAB_TESTDATA` }, async () => {
  const rows = fs.readFileSync(path.join(TESTDATA, 'porcupine/EXPECTED.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  const items = rows.map(([file, model, expected]) => ({
    name: file,
    text: fs.readFileSync(path.join(TESTDATA, 'porcupine', file), 'utf8'),
    format: file.startsWith('kv/') ? 'kv' : 'etcd',
    model: file.startsWith('kv/') ? 'kv' : 'cas-register',
    expected: expected.replace('_', '-'),
  }));
  const page = await newPage(env.browser);
  await page.goto(env.base + '/check');
  await page.waitForFunction(() => window.wasmBindings && window.wasmBindings.bench_linearizability);
  const report = JSON.parse(await page.evaluate((items) => window.wasmBindings.bench_linearizability(JSON.stringify(items)), items));
  assert.equal(report.error, undefined);
  for (const [i, row] of report.rows.entries()) assert.equal(row.outcome, items[i].expected, row.name);
  const group = (prefix) => report.rows.filter((r) => r.name.startsWith(prefix));
  const sum = (rs) => Number(rs.reduce((a, r) => a + r.check_ms, 0).toFixed(1));
  perf.lin_wasm_etcd_check_ms = sum(group('jepsen/'));
  perf.lin_wasm_kv_check_ms = sum(group('kv/'));
  perf.lin_wasm_max_ms = Number(report.max_check_ms.toFixed(1));
  perf.lin_wasm_max_file = report.max_name;
  console.log(`linearizability in WASM: etcd ${perf.lin_wasm_etcd_check_ms} ms (${group('jepsen/').length} histories), kv ${perf.lin_wasm_kv_check_ms} ms (${group('kv/').length}), slowest ${report.max_name} ${perf.lin_wasm_max_ms} ms`);
  assert.deepEqual(page.errors(), []);
});
