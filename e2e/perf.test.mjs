// Measurements, not pass/fail on speed: time to first diagram and autoplay frame times.
// Written to e2e/artifacts/perf.json and printed by scripts/report.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { start, stop, newPage, ARTIFACTS } from './harness.mjs';

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
