// Raft in Chromium against the release build: the "Leader election" lesson — crash the
// leader from its row and see a new one elected in a higher term; the no-leader challenge.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, stop, newPage, shot } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await stop(env); });

const row = (page, name) => page.locator('.raft-servers tbody tr', { has: page.getByRole('rowheader', { name, exact: true }) });

test('leader election: crashing the leader elects another in a higher term', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 720 });
  await page.goto(env.base + '/');
  await page.locator('.lesson-card', { hasText: 'Leader election' }).getByRole('link', { name: 'Start lesson →' }).click();
  await page.waitForURL(/\/lesson\/leader-election\?step=1$/);
  await page.goto(env.base + '/lesson/leader-election?step=3');
  await page.getByRole('heading', { name: 'Heartbeats' }).waitFor();
  // At 440 ms s3 leads term 1; everyone else follows it.
  await row(page, 's3').locator('.role', { hasText: 'leader' }).waitFor();
  for (const s of ['s1', 's2', 's4', 's5']) {
    assert.equal(await row(page, s).locator('.role').textContent(), 'follower');
    assert.equal(await row(page, s).locator('td.num').first().textContent(), '1');
  }
  // Crash the leader from its row, then run to the end.
  await page.getByRole('button', { name: 'Crash s3' }).click();
  await page.getByText('You are experimenting').waitFor();
  await page.getByRole('button', { name: 'Go to end' }).click();
  await row(page, 's3').locator('.role', { hasText: 'crashed' }).waitFor();
  const leaders = page.locator('.raft-servers tbody tr.leader');
  await leaders.first().waitFor();
  assert.equal(await leaders.count(), 1);
  const name = await leaders.first().locator('th').textContent();
  assert.notEqual(name, 's3');
  assert.ok(Number(await leaders.first().locator('td.num').first().textContent()) >= 2, 'a higher term');
  await page.getByTestId('raft-safety').waitFor();
  await shot(page, 'raft-new-leader');
  assert.deepEqual(page.errors(), []);
});

test('leader election: the no-leader challenge is solved by crashing a majority', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 720 });
  await page.goto(env.base + '/lesson/leader-election?step=7');
  await page.getByRole('heading', { name: 'Why a majority' }).waitFor();
  const status = page.locator('.challenge');
  await status.getByText('Challenge: not solved yet').waitFor();
  await page.getByRole('button', { name: 'Crash s5' }).click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  assert.match(await status.textContent(), /not solved yet/);
  await page.getByRole('button', { name: 'Crash s4' }).click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  await status.getByText('Challenge solved!').waitFor();
  await shot(page, 'raft-no-leader');
  assert.deepEqual(page.errors(), []);
});
