// Quorums, CAP and linearizability in Chromium against the release build: the CAP lesson's
// served/refused numbers per side with the checker's verdict; the quorums challenge solved
// from the partition control; Figure 9-6 judged not linearizable, and linearizable once the
// mode is switched to ABD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite, newPage, shot } from './harness.mjs';

const env = suite();

/** The CAP table's row for the side whose replicas are `side` ("r1" or "r2, r3"). */
const sideRow = (page, side) => page.locator('.cap tbody tr', { has: page.locator('td', { hasText: new RegExp(`^${side}$`) }) });

test('CAP: the CP store refuses the minority, the AP store answers and is not linearizable', async () => {
  const page = await newPage(env.browser, { width: 1440, height: 900 });
  await page.goto(env.base + '/');
  await page.locator('.lesson-card', { hasText: 'CAP and partitions' }).getByRole('link', { name: 'Start lesson →' }).click();
  await page.waitForURL(/\/lesson\/cap\?step=1$/);
  await page.goto(env.base + '/lesson/cap?step=3');
  await page.getByRole('heading', { name: 'The network splits: CP refuses the minority' }).waitFor();
  const minority = sideRow(page, 'r1');
  await minority.waitFor();
  assert.equal(await minority.locator('td.served').textContent(), '0');
  assert.equal(await minority.locator('td.refused').textContent(), '4');
  const majority = sideRow(page, 'r2, r3');
  assert.equal(await majority.locator('td.served').textContent(), '4');
  assert.equal(await majority.locator('td.refused').textContent(), '0');
  assert.match(await page.getByTestId('cap-line').textContent(), /history linearizable/);
  await shot(page, 'cap-cp');

  await page.goto(env.base + '/lesson/cap?step=4');
  await page.getByRole('heading', { name: 'AP: answer everywhere, disagree' }).waitFor();
  await sideRow(page, 'r1').waitFor();
  assert.equal(await sideRow(page, 'r1').locator('td.refused').textContent(), '0');
  assert.equal(await sideRow(page, 'r2, r3').locator('td.refused').textContent(), '0');
  assert.match(await page.getByTestId('cap-line').textContent(), /history NOT linearizable/);
  assert.equal(await page.getByTestId('lin-verdict').getAttribute('data-outcome'), 'not-linearizable');
  await shot(page, 'cap-ap');
  assert.deepEqual(page.errors(), []);
});

test('quorums: the challenge is solved by a partition from the control panel', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 720 });
  await page.goto(env.base + '/lesson/quorums?step=7');
  await page.getByRole('heading', { name: /Your turn: a stale read/ }).waitFor();
  assert.match(await page.getByTestId('quorum-overlap').textContent(), /overlap/);
  assert.match(await page.locator('.challenge').textContent(), /not solved yet/);
  for (const n of ['r1', 'r3', 'c1']) await page.getByRole('checkbox', { name: `${n} on side A` }).check();
  await page.getByRole('button', { name: 'Partition: side A | the rest' }).click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  await page.locator('.challenge.met').waitFor();
  assert.match(await page.locator('.challenge').textContent(), /Challenge solved/);
  assert.ok(await page.locator('#quorum-requests, [data-testid=quorum-requests] li.stale').count() >= 1);
  await shot(page, 'quorums-challenge');
  assert.deepEqual(page.errors(), []);
});

test('linearizability: Figure 9-6 is not linearizable; the same reads under ABD are', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 720 });
  await page.goto(env.base + '/lesson/linearizability?step=4');
  await page.getByRole('heading', { name: 'B reads the old value after A saw the new one' }).waitFor();
  const verdict = page.getByTestId('lin-verdict');
  await verdict.waitFor();
  assert.equal(await verdict.getAttribute('data-outcome'), 'not-linearizable');
  assert.equal(await page.locator('.history-chart g.hist-op.blocked').count(), 1);
  assert.match(await page.locator('.history-chart g.hist-op.blocked title').textContent(), /^B: x: r → 0/);
  await shot(page, 'linearizability-9-6');
  // The learner switches the same run to the linearizable mode.
  await page.getByRole('radio', { name: 'Linearizable (ABD, majorities)' }).check();
  await page.getByRole('button', { name: 'Go to end' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid=lin-verdict]')?.dataset.outcome === 'linearizable');
  assert.match(await page.getByTestId('quorum-overlap').textContent(), /majorit/i);
  assert.deepEqual(page.errors(), []);
});
