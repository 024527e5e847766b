// Paxos in Chromium against the release build: the "Paxos" lesson — step through, read the
// chosen value and the panels; broken Paxos marked on the diagram; the Propose control makes
// two proposers duel, and the no-value-chosen challenge is met.
// DISTLAB_E2E_BASE=http://127.0.0.1:PORT runs against a server already serving a build
// (otherwise the harness serves dist/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite, newPage, shot, stepOf } from './harness.mjs';

const env = suite();

const row = (page, panel, name) =>
  page.locator(`.${panel} tbody tr`, { has: page.getByRole('rowheader', { name, exact: true }) });

test('paxos: two phases choose A, a later proposer adopts it, broken Paxos is caught', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 720 });
  await page.goto(env.base + '/');
  await page.locator('.lesson-card', { hasText: 'Paxos' }).getByRole('link', { name: 'Start lesson →' }).click();
  await page.waitForURL(/\/lesson\/paxos\?step=1$/);
  await page.getByRole('heading', { name: 'Two phases, one value' }).waitFor();
  // At 40 ms: A chosen in 1.1 at 30 ms, every acceptor holds it, l1 learned it.
  assert.match(await page.getByTestId('paxos-chosen').textContent(), /Chosen: A in ballot 1\.1 at 30 ms/);
  for (const a of ['a1', 'a2', 'a3']) {
    const cells = row(page, 'paxos-acceptors', a).locator('td');
    assert.equal(await cells.nth(0).textContent(), '1.1');
    assert.equal(await cells.nth(1).textContent(), 'A in 1.1');
  }
  assert.equal(await row(page, 'paxos-learners', 'l1').locator('td').textContent(), 'A (ballot 1.1)');
  assert.equal(await row(page, 'paxos-proposers', 'p1').locator('.role').textContent(), 'chosen');
  await page.getByTestId('paxos-safety').waitFor();
  // Step 2: ballot 1.2 beats 1.1; B chosen.
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: 'Proposal numbers' }).waitFor();
  await page.getByTestId('paxos-chosen').getByText('Chosen: B in ballot 1.2 at 35 ms').waitFor();
  assert.equal(await row(page, 'paxos-proposers', 'p1').locator('.role').textContent(), 'backing off');
  // Step 3: p2 adopts A.
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: 'A later proposer adopts the value' }).waitFor();
  const p2 = row(page, 'paxos-proposers', 'p2').locator('td');
  await p2.nth(2).getByText('A (adopted, accepted in 1.1)').waitFor();
  assert.match(await page.locator('.paxos-outcome').textContent(), /p2 adopted A \(accepted in 1\.1\) for ballot 1\.2 instead of its own B at 120 ms/);
  await shot(page, 'paxos-adoption');
  // Step 7: broken Paxos, two values chosen; the monitor's violation on the diagram.
  await page.getByRole('link', { name: /^Step 7:/ }).click();
  await page.getByRole('heading', { name: 'Broken Paxos: ignore the promises' }).waitFor();
  await page.getByTestId('paxos-violations').getByText('at most one chosen').waitFor();
  assert.match(await page.locator('.paxos-outcome').textContent(), /Also chosen: B in ballot 1\.2 at 130 ms/);
  assert.ok(await page.locator('.diagram .event.lost').count() >= 1, 'the violation is marked on the diagram');
  await shot(page, 'paxos-broken');
  assert.deepEqual(page.errors(), []);
});

test('paxos: proposing at p2 at the right moment livelocks the two and meets the challenge', async () => {
  const page = await newPage(env.browser, { width: 1440, height: 900 });
  await page.goto(env.base + '/lesson/paxos?step=8');
  await page.getByRole('heading', { name: 'Your turn: make them duel' }).waitFor();
  const status = page.locator('.challenge');
  await status.getByText('Challenge: not solved yet').waitFor();
  // Too early (2 ms, p1 has only a2's promise): p2 simply wins.
  await page.getByRole('button', { name: 'Go to start' }).click();
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Step forward' }).click();
  assert.equal((await stepOf(page)).step, 3);
  await page.getByRole('textbox', { name: 'Value for p2' }).fill('B');
  await page.getByRole('button', { name: 'Propose at p2' }).click();
  await page.getByText('You are experimenting').waitFor();
  await page.getByRole('button', { name: 'Go to end' }).click();
  await page.getByTestId('paxos-chosen').getByText('Chosen: B in ballot 1.2').waitFor();
  assert.match(await status.textContent(), /not solved yet/);
  // Back to the lesson's run; now at 10 ms, between a2's promise and the others'.
  await page.getByRole('button', { name: 'Return to the lesson' }).click();
  await page.getByTestId('paxos-chosen').getByText('Chosen: A in ballot 1.1 at 30 ms').waitFor();
  await page.getByRole('button', { name: 'Go to start' }).click();
  for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Step forward' }).click();
  assert.equal((await stepOf(page)).step, 4);
  await page.getByRole('textbox', { name: 'Value for p2' }).fill('B');
  await page.getByRole('button', { name: 'Propose at p2' }).click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  await status.getByText('Challenge solved!').waitFor();
  await page.getByTestId('paxos-chosen').getByText('No value chosen yet.').waitFor();
  const rounds = await page.getByTestId('paxos-rounds').textContent();
  const m = rounds.match(/Ballots started: (\d+) \(p1 (\d+), p2 (\d+)\); preempted: (\d+)\./);
  assert.ok(m, rounds);
  assert.ok(Number(m[1]) >= 90 && Number(m[2]) >= 40 && Number(m[3]) >= 40 && Number(m[4]) >= 85, rounds);
  await page.getByTestId('paxos-safety').waitFor();
  assert.equal(await row(page, 'paxos-proposers', 'p2').locator('.role').textContent(), 'preparing');
  await shot(page, 'paxos-duel');
  assert.deepEqual(page.errors(), []);
});
