// The "Failure detectors" lesson in Chromium: step through (φ plot, verdicts, numbers, the
// sweep tables), then solve the challenge from the φ controls; screenshots at a laptop
// (1366×768) and a projector (1920×1080) size; no console errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite, newPage, shot } from './harness.mjs';

const env = suite();

const num = async (page, id) => (await page.getByTestId(id).textContent()).trim();

test('failure detectors: steps, φ plot, numbers and sweep', async () => {
  const page = await newPage(env.browser, { width: 1366, height: 768 });
  await page.goto(env.base + '/lesson/failure-detectors?step=1');
  await page.getByRole('heading', { name: 'Heartbeats' }).waitFor();
  const plot = page.getByRole('img', { name: /^φ plot:/ });
  await plot.waitFor();
  assert.equal(await plot.locator('polyline.fd-line').count(), 2, 'one line per monitored node');
  assert.equal(await plot.locator('.fd-threshold').count(), 1);
  assert.equal(await plot.locator('rect.fd-shade').count(), 0, 'nobody suspected');
  assert.equal(await num(page, 'fd-phi-false'), '0');
  assert.match(await page.getByTestId('fd-summary').textContent(), /threshold 8/);
  // Step 2: jitter, a tight timeout: many false suspicions by the timeout, none by φ.
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: 'Jitter: false suspicions' }).waitFor();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=fd-timeout-false]').textContent) >= 5);
  assert.equal(await num(page, 'fd-phi-false'), '0');
  // Step 3: a 300 ms pause: one false suspicion each, shaded on the plot, the pause marked.
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: 'A stop-the-world pause' }).waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=fd-phi-false]').textContent === '1');
  assert.equal(await num(page, 'fd-timeout-false'), '1');
  assert.equal(await plot.locator('rect.fd-shade[data-false=true]').count(), 1);
  assert.equal(await plot.locator('rect.fd-pause').count(), 1);
  // Step 4: a real crash: detection times 170 ms (φ) and 270 ms (timeout).
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: 'A real crash' }).waitFor();
  await page.getByTestId('fd-phi-detection').getByText('170 ms').waitFor();
  assert.equal(await num(page, 'fd-timeout-detection'), '270 ms');
  assert.equal(await plot.locator('.fd-crash').count(), 1);
  // At the end of the run, the monitor suspects node-2 with both detectors.
  assert.equal(await num(page, 'fd-phi-node-2'), 'suspected');
  assert.equal(await num(page, 'fd-timeout-node-2'), 'suspected');
  await shot(page, 'failure-detectors-1366');
  // Step 6: the sweep tables, one row per setting.
  await page.getByRole('link', { name: /^Step 6:/ }).click();
  await page.getByRole('heading', { name: 'The trade-off' }).waitFor();
  const phiRows = page.getByTestId('fd-phi-sweep').locator('tbody tr');
  assert.equal(await phiRows.count(), 7);
  assert.match(await phiRows.nth(0).textContent(), /φ ≥ 1\s*1\s*130 ms/);
  assert.match(await phiRows.nth(6).textContent(), /φ ≥ 16\s*1\s*190 ms/);
  const tRows = page.getByTestId('fd-timeout-sweep').locator('tbody tr');
  assert.match(await tRows.filter({ hasText: '500 ms' }).first().textContent(), /500 ms\s*0\s*520 ms/);
  assert.deepEqual(page.errors(), []);
});

test('failure detectors: the challenge solved with the acceptable heartbeat pause', async () => {
  const page = await newPage(env.browser, { width: 1920, height: 1080 });
  await page.goto(env.base + '/lesson/failure-detectors?step=7');
  await page.getByRole('heading', { name: 'Challenge: a pause is not a failure' }).waitFor();
  const status = page.locator('.challenge');
  await status.getByText('Challenge: not solved yet').waitFor();
  // The threshold alone does not do it.
  const threshold = page.getByRole('spinbutton', { name: 'φ threshold' });
  await threshold.fill('16');
  await threshold.dispatchEvent('change');
  await page.getByTestId('fd-numbers').getByText('threshold 16').waitFor();
  assert.equal(await num(page, 'fd-phi-false'), '1');
  await status.getByText('Challenge: not solved yet').waitFor();
  // Everything at the maximum: no false suspicion, but the crash is not detected in time.
  const pause = page.getByRole('spinbutton', { name: 'Acceptable heartbeat pause (ms)' });
  await pause.fill('3000');
  await pause.dispatchEvent('change');
  await page.waitForFunction(() => document.querySelector('[data-testid=fd-phi-false]').textContent === '0');
  await status.getByText('Challenge: not solved yet').waitFor();
  // Akka's answer: about the pause's length.
  await threshold.fill('8');
  await threshold.dispatchEvent('change');
  await pause.fill('300');
  await pause.dispatchEvent('change');
  await page.getByTestId('fd-phi-detection').getByText('470 ms').waitFor();
  assert.equal(await num(page, 'fd-phi-false'), '0');
  await status.getByText(/Challenge solved/).waitFor();
  await shot(page, 'failure-detectors-1920');
  assert.deepEqual(page.errors(), []);
});

test('failure detectors: the Pause control adds a pause at the cursor', async () => {
  const page = await newPage(env.browser, { width: 1366, height: 768 });
  await page.goto(env.base + '/lesson/failure-detectors?step=1');
  await page.getByRole('heading', { name: 'Heartbeats' }).waitFor();
  await page.getByRole('button', { name: 'Go to start' }).click();
  await page.getByRole('button', { name: 'Pause at the cursor' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.fd-plot rect.fd-pause').length === 1);
  await page.waitForFunction(() => document.querySelector('[data-testid=fd-phi-false]').textContent === '1');
  assert.deepEqual(page.errors(), []);
});
