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

test('log replication: Figure 8 — unticking the current-term rule breaks safety, messages coloured by term', async () => {
  const page = await newPage(env.browser, { width: 1440, height: 900 });
  await page.goto(env.base + '/lesson/log-replication?step=4');
  await page.getByRole('heading', { name: 'Figure 8: an old entry on a majority is not yet committed' }).waitFor();
  // S5 overwrote index 2 on S2–S4; the monitor is satisfied.
  await page.getByTestId('raft-safety').waitFor();
  await row(page, 'S5').locator('.role', { hasText: 'leader' }).waitFor();
  assert.equal(await row(page, 'S2').locator('.raft-log .entry').nth(1).locator('.entry-term').textContent(), 't3');
  // Messages carry their term as a colour class, and the key names the terms.
  assert.ok(await page.locator('svg.diagram g.message.epoch-4[data-epoch="4"]').count() >= 1, 'term-4 messages');
  assert.ok(await page.locator('svg.diagram g.message.epoch-5[data-epoch="5"]').count() >= 1, 'term-5 messages');
  const key = page.getByRole('list', { name: 'Message colours by term' });
  await key.getByText('term 5').waitFor();
  // Break the rule from the switches: the run is redone and the monitor flags it.
  const rule = page.getByRole('checkbox', { name: 'Commit only current-term entries' });
  assert.equal(await rule.isChecked(), true);
  await rule.uncheck();
  const violations = page.getByTestId('raft-violations');
  await violations.getByText('leader completeness').waitFor();
  await violations.getByText('state machine safety').waitFor();
  await shot(page, 'raft-figure-8-broken');
  await rule.check();
  await page.getByTestId('raft-safety').waitFor();
  assert.deepEqual(page.errors(), []);
});

test('raft lab: Figure 7 repairs every log; check quorum makes a cut-off leader step down', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 720 });
  await page.goto(env.base + '/lesson/raft-lab?step=5');
  await page.getByRole('heading', { name: 'Figure 7: follower logs repaired' }).waitFor();
  for (const s of ['leader', 'a', 'b', 'c', 'd', 'e', 'f']) {
    assert.equal(await row(page, s).locator('.raft-log .entry').count(), 11, s);
    assert.equal(await row(page, s).locator('.raft-log .entry.committed').count(), 11, s);
  }
  await shot(page, 'raft-figure-7');
  // The partitioned old leader: without check quorum it still leads when the partition
  // heals at 1800 ms; with it, it has stepped down by then.
  await page.goto(env.base + '/lesson/raft-lab?step=4');
  await page.getByRole('heading', { name: 'A partitioned old leader' }).waitFor();
  const stepDown = async () => {
    const text = await page.getByTestId('raft-step-downs').textContent();
    const m = text.match(/s3 \(led term 1; (\d+) ms\)/);
    assert.ok(m, text);
    return Number(m[1]);
  };
  assert.ok(await stepDown() >= 1800, 'steps down only when the partition heals');
  await page.getByRole('checkbox', { name: 'Check quorum' }).check();
  await page.waitForFunction(() => /s3 \(led term 1; (\d+) ms\)/.test(document.querySelector('[data-testid="raft-step-downs"]')?.textContent || '') && Number(RegExp.$1) < 1800);
  assert.ok(await stepDown() < 1800, 'with check quorum it steps down while cut off');
  await shot(page, 'raft-check-quorum');
  await page.getByTestId('raft-safety').waitFor();
  assert.deepEqual(page.errors(), []);
});
