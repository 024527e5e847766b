// Two-phase commit in Chromium: the "Two-phase commit and why it blocks" lesson — step
// through; after the coordinator's crash shard-b is in doubt holding bob's lock with T2
// waiting, and both clear after the restart; broken 2PC's violation on the diagram; the
// challenge is met when the learner crashes the coordinator between prepare and decision
// (and not when too late); the 3PC partition challenge; Begin transaction; no console errors.
// Screenshots at 1366x768 and 1920x1080.
// DISTLAB_E2E_BASE=http://127.0.0.1:PORT runs against a server already serving a build
// (otherwise the harness serves dist/, or DISTLAB_E2E_DIST).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite, newPage, shot, stepOf } from './harness.mjs';

const env = suite();

const participant = (page, name) => page.locator(`.twopc-participants tbody tr[data-participant="${name}"]`);
const txnState = (page, name, txn) => participant(page, name).locator(`li[data-txn="${txn}"]`);

/** Moves the cursor to trace step `n` ("step n of …"; the event index n − 1) from the start. */
async function goToStep(page, n) {
  await page.getByRole('button', { name: 'Go to start' }).click();
  for (let i = 0; i < n; i++) await page.getByRole('button', { name: 'Step forward' }).click();
  assert.equal((await stepOf(page)).step, n);
}

/** A page with reduced motion: the display time jumps to the cursor, so panels follow at once. */
async function page_(browser, viewport) {
  const p = await newPage(browser, viewport);
  await p.emulateMedia({ reducedMotion: 'reduce' });
  return p;
}

test('twopc: the happy path, a coordinator crash leaving shard-b in doubt with T2 waiting, recovery', async () => {
  const page = await page_(env.browser, { width: 1366, height: 768 });
  await page.goto(env.base + '/');
  await page.locator('.lesson-card', { hasText: 'Two-phase commit' }).getByRole('link', { name: 'Start lesson →' }).click();
  await page.waitForURL(/\/lesson\/two-phase-commit\?step=1$/);
  await page.getByRole('heading', { name: 'One transfer, two shards' }).waitFor();
  // At 20 ms: both shards hold their lock, T1 working, nothing committed.
  await txnState(page, 'shard-a', 'T1').getByText('T1 working').waitFor();
  assert.equal(await participant(page, 'shard-a').getByTestId('twopc-locks').textContent(), 'alice: T1');
  assert.equal(await participant(page, 'shard-b').getByTestId('twopc-locks').textContent(), 'bob: T1');
  await shot(page, 'twopc-step1-1366');

  // Step 2: committed everywhere, the commit point in the coordinator's log.
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: 'The happy path: prepare, vote, commit' }).waitFor();
  await page.getByTestId('twopc-coord-log').getByText('COMMIT T1').waitFor();
  assert.match(await page.getByTestId('twopc-coord-log').textContent(), /COMMIT T1 at 40 ms ← commit point.*END T1 at 60 ms/);
  assert.match(await page.getByTestId('twopc-outcomes').textContent(), /T1 — coordinator: commit at 40 ms\. shard-a: committed at 50 ms; shard-b: committed at 50 ms\./);
  await page.getByTestId('twopc-safety').waitFor();

  // Step 4: the coordinator crashes after the commit point.
  await page.getByRole('link', { name: /^Step 4:/ }).click();
  await page.getByRole('heading', { name: 'The coordinator crashes after the commit point' }).waitFor();
  // At 200 ms: shard-b in doubt about T1, holding bob, T2 waiting in line.
  await goToStep(page, 18); // the last event before 200 ms (t = 140 ms)
  await txnState(page, 'shard-b', 'T1').getByText('T1 in doubt since 30 ms').waitFor();
  assert.equal(await txnState(page, 'shard-b', 'T1').getAttribute('class'), 'txn-state in-doubt');
  assert.equal(await txnState(page, 'shard-b', 'T2').textContent(), 'T2 waiting for a lock since 35 ms');
  assert.equal(await participant(page, 'shard-b').getByTestId('twopc-locks').textContent(), 'bob: T1');
  assert.equal(await participant(page, 'shard-b').getByTestId('twopc-waiting').textContent(), 'bob: T2');
  await page.getByTestId('twopc-still-in-doubt').waitFor();
  assert.match(await page.getByTestId('twopc-coordinator-status').textContent(), /crashed/);
  assert.ok(await page.locator('.diagram .event.in-doubt').count() >= 1, 'the open in-doubt period is marked on the diagram');
  await shot(page, 'twopc-in-doubt-1366');
  // At the end: the coordinator restarted and re-sent commit; nothing in doubt, no lock waits.
  await page.getByRole('button', { name: 'Go to end' }).click();
  await txnState(page, 'shard-b', 'T1').getByText('T1 committed').waitFor();
  assert.equal(await page.getByTestId('twopc-still-in-doubt').count(), 0);
  assert.equal(await participant(page, 'shard-b').getByTestId('twopc-waiting').textContent(), '—');
  assert.match(await page.getByTestId('twopc-blocked').textContent(), /T2 waited 275 ms for bob at shard-b, held by T1 while T1 was in doubt/);
  assert.match(await page.locator('.lock-table').textContent(), /T2 waited 275 ms \(from 35 ms\), got it at 310 ms/);
  await page.getByTestId('twopc-safety').waitFor();

  // Step 6: broken 2PC, the violation marked on the diagram.
  await page.getByRole('link', { name: /^Step 6:/ }).click();
  await page.getByRole('heading', { name: 'Why not decide on a timeout?' }).waitFor();
  await page.getByTestId('twopc-violations').getByText('atomic outcome').first().waitFor();
  assert.ok(await page.locator('.diagram .event.lost').count() >= 1, 'the violation is marked on the diagram');
  await shot(page, 'twopc-broken-1366');
  assert.deepEqual(page.errors(), []);
});

test('twopc: crashing the coordinator between prepare and decision leaves a participant in doubt', async () => {
  const page = await page_(env.browser, { width: 1920, height: 1080 });
  await page.goto(env.base + '/lesson/two-phase-commit?step=7');
  await page.getByRole('heading', { name: 'Your turn: leave a participant in doubt' }).waitFor();
  const status = page.locator('.challenge');
  await status.getByText('Challenge: not solved yet').waitFor();
  // Too late (at 40 ms the decision is already on its way): not solved.
  await goToStep(page, 9); // t = 40 ms: the coordinator has both yes votes and sends commit
  assert.match((await stepOf(page)).text, /^40 ms/);
  await page.getByRole('button', { name: 'Crash coordinator' }).click();
  await page.getByText('You are experimenting').waitFor();
  await page.getByRole('button', { name: 'Go to end' }).click();
  await txnState(page, 'shard-b', 'T1').getByText('T1 committed').waitFor();
  assert.match(await status.textContent(), /not solved yet/);
  // Back to the lesson's run; crash at 30 ms, after the shards voted yes.
  await page.getByRole('button', { name: 'Return to the lesson' }).click();
  await page.getByTestId('twopc-coord-log').getByText('END T1').waitFor();
  await goToStep(page, 7); // t = 30 ms: both shards have voted yes
  assert.match((await stepOf(page)).text, /^30 ms/);
  await page.getByRole('button', { name: 'Crash coordinator' }).click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  await status.getByText('Challenge solved!').waitFor();
  await txnState(page, 'shard-a', 'T1').getByText(/T1 in doubt since 30 ms/).waitFor();
  await txnState(page, 'shard-b', 'T1').getByText(/T1 in doubt since 30 ms/).waitFor();
  assert.match(await page.getByTestId('twopc-still-in-doubt').textContent(), /2 participants still in doubt/);
  await shot(page, 'twopc-challenge-1920');
  assert.deepEqual(page.errors(), []);
});

test('twopc: a partition at pre-commit splits 3PC; Begin transaction adds a transaction', async () => {
  const page = await page_(env.browser, { width: 1366, height: 768 });
  await page.goto(env.base + '/lesson/two-phase-commit?step=9');
  await page.getByRole('heading', { name: 'Your turn: split 3PC with a partition' }).waitFor();
  const status = page.locator('.challenge');
  await status.getByText('Challenge: not solved yet').waitFor();
  await goToStep(page, 9); // t = 40 ms: the coordinator sends pre-commit
  assert.match((await stepOf(page)).text, /^40 ms/);
  await page.getByRole('checkbox', { name: 'coordinator on side A' }).check();
  await page.getByRole('checkbox', { name: 'shard-a on side A' }).check();
  await page.getByRole('button', { name: 'Partition: side A | the rest' }).click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  await status.getByText('Challenge solved!').waitFor();
  await page.getByTestId('twopc-violations').getByText('atomic outcome').first().waitFor();
  assert.match(await page.getByTestId('twopc-outcomes').textContent(), /shard-a: committed at \d+ ms; shard-b: aborted at \d+ ms/);
  await shot(page, 'twopc-3pc-split-1366');
  // Begin transaction at the cursor: T2 moves 10 from alice to bob.
  await page.getByRole('button', { name: 'Return to the lesson' }).click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  assert.equal(await page.getByRole('textbox', { name: 'Transaction id' }).inputValue(), 'T2');
  await page.getByRole('button', { name: 'Begin transaction' }).click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  await page.getByTestId('twopc-outcomes').getByText(/T2 — coordinator: commit/).waitFor();
  assert.equal(await page.getByRole('textbox', { name: 'Transaction id' }).inputValue(), 'T3');
  // A bad amount is reported, not run.
  await page.getByRole('textbox', { name: 'Amount at shard-a' }).fill('lots');
  await page.getByRole('button', { name: 'Begin transaction' }).click();
  await page.getByRole('alert').getByText(/not a whole number/).waitFor();
  await shot(page, 'twopc-begin-1366');
  assert.deepEqual(page.errors(), []);
});
