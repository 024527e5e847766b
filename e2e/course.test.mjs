// The course page and progress in Chromium: the built-in lessons grouped by part in the
// book's order; visiting lesson steps records progress (steps visited, "Continue at step
// N", completed at the last step or when a challenge is solved); progress survives a
// reload; "Reset progress" asks first, then forgets it. The events-as-text list under a
// diagram follows the shown step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite, newPage, shot } from './harness.mjs';

const env = suite();

/** The course card of lesson `id`. */
const card = (page, id) => page.locator(`.course-lesson[data-lesson="${id}"]`);

/** Visited / total / completed of a lesson, as its card states them. */
async function progressOf(page, id) {
  const c = card(page, id);
  await c.waitFor();
  return {
    visited: Number(await c.getAttribute('data-visited')),
    total: Number(await c.getAttribute('data-total')),
    completed: (await c.getAttribute('data-completed')) === 'true',
    text: await c.locator('.progress-line').textContent(),
  };
}

test('the course lists every part in order, the home page links to it', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 900 });
  await page.goto(env.base + '/');
  await page.getByRole('link', { name: 'Your progress in the course →' }).click();
  await page.waitForURL(/\/course$/);
  await page.getByRole('heading', { name: 'The course', level: 1 }).waitFor();
  const parts = await page.locator('.course-part .part-title').allTextContents();
  assert.deepEqual(parts, ['Replication', 'Transactions and isolation', 'Faults and membership',
    'Linearizability and CAP', 'Clocks and causality', 'Consensus', 'Distributed transactions']);
  const ids = await page.locator('.course-lesson').evaluateAll((els) => els.map((e) => e.dataset.lesson));
  assert.deepEqual(ids, ['replication-lag', 'session-guarantees', 'quorums', 'version-vectors', 'isolation-levels',
    'failure-detectors', 'gossip', 'linearizability', 'cap', 'logical-clocks', 'leader-election', 'log-replication',
    'raft-lab', 'paxos', 'two-phase-commit']);
  const p = await progressOf(page, 'replication-lag');
  assert.equal(p.visited, 0);
  assert.match(p.text, /0 of \d+ steps visited/);
  assert.equal(await card(page, 'replication-lag').getByRole('link', { name: 'Start lesson →' }).count(), 1);
  // Nothing to reset yet.
  assert.ok(await page.getByRole('button', { name: 'Reset progress' }).isDisabled());
  await shot(page, 'course-fresh');
  assert.deepEqual(page.errors(), []);
});

test('visiting steps records progress, which survives a reload; continue; complete; reset', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 900 });
  await page.goto(env.base + '/lesson/replication-lag?step=1');
  await page.locator('.narration h2').waitFor();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.waitForURL(/step=2$/);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.waitForURL(/step=3$/);
  await page.locator('.narration .step-count', { hasText: 'Step 3 of' }).waitFor();

  await page.goto(env.base + '/course');
  let p = await progressOf(page, 'replication-lag');
  assert.equal(p.visited, 3);
  assert.equal(p.completed, false);
  const cont = card(page, 'replication-lag').getByRole('link', { name: 'Continue at step 3' });
  assert.match(await cont.getAttribute('href'), /\/lesson\/replication-lag\?step=3$/);

  await page.reload();
  p = await progressOf(page, 'replication-lag');
  assert.equal(p.visited, 3, 'progress survives a reload');
  // The home page shows the same progress.
  await page.goto(env.base + '/');
  assert.equal((await progressOf(page, 'replication-lag')).visited, 3);

  await page.goto(env.base + '/course');
  await card(page, 'replication-lag').getByRole('link', { name: 'Continue at step 3' }).click();
  await page.waitForURL(/\/lesson\/replication-lag\?step=3$/);
  await page.locator('.narration .step-count', { hasText: 'Step 3 of' }).waitFor();

  // The last step completes the lesson.
  await page.goto(env.base + `/lesson/replication-lag?step=${p.total}`);
  await page.locator('.narration .step-count', { hasText: `Step ${p.total} of ${p.total}` }).waitFor();
  await page.goto(env.base + '/course');
  p = await progressOf(page, 'replication-lag');
  assert.equal(p.visited, 4);
  assert.equal(p.completed, true);
  assert.match(p.text, /Completed/);
  await shot(page, 'course-progress');

  // Reset asks first; "Keep it" keeps it.
  await page.getByRole('button', { name: 'Reset progress' }).click();
  await page.getByRole('button', { name: 'Keep it' }).click();
  assert.equal((await progressOf(page, 'replication-lag')).visited, 4);
  await page.getByRole('button', { name: 'Reset progress' }).click();
  const confirm = page.getByRole('button', { name: 'Forget progress' });
  await confirm.waitFor();
  assert.equal(await confirm.evaluate((b) => b === document.activeElement), true, 'focus moves to the confirmation');
  await shot(page, 'course-reset-confirm');
  await confirm.click();
  await page.getByRole('status').filter({ hasText: 'Progress reset' }).waitFor();
  p = await progressOf(page, 'replication-lag');
  assert.equal(p.visited, 0);
  assert.equal(p.completed, false);
  await page.reload();
  assert.equal((await progressOf(page, 'replication-lag')).visited, 0, 'the reset survives a reload');
  assert.deepEqual(page.errors(), []);
});

test('a solved challenge completes a lesson; the isolation lesson records its steps', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 720 });
  await page.goto(env.base + '/lesson/quorums?step=7');
  await page.getByRole('heading', { name: /Your turn: a stale read/ }).waitFor();
  for (const n of ['r1', 'r3', 'c1']) await page.getByRole('checkbox', { name: `${n} on side A` }).check();
  await page.getByRole('button', { name: 'Partition: side A | the rest' }).click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  await page.locator('.challenge.met').waitFor();

  await page.goto(env.base + '/lesson/isolation-levels?step=2');
  await page.locator('.narration .step-count', { hasText: 'Step 2 of' }).waitFor();

  await page.goto(env.base + '/course');
  const q = await progressOf(page, 'quorums');
  assert.equal(q.visited, 1);
  assert.equal(q.completed, true, 'the challenge was solved');
  const iso = await progressOf(page, 'isolation-levels');
  assert.equal(iso.visited, 1);
  assert.equal(iso.completed, false);
  assert.equal(await card(page, 'isolation-levels').getByRole('link', { name: 'Continue at step 2' }).count(), 1);
  assert.deepEqual(page.errors(), []);
});

test('events as text: the list under the diagram follows the step, the current event marked', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 900 });
  await page.goto(env.base + '/lesson/replication-lag?step=1');
  await page.locator('svg.diagram[aria-label^="Space-time diagram"]').waitFor();
  const details = page.locator('details.events-text');
  await details.locator('summary').click();
  const list = details.getByRole('list', { name: 'Events up to the shown step' });
  await list.waitFor({ state: 'attached' });
  const count = () => list.locator('li').count();
  const before = await count();
  // Step forward with the transport: one more event, and it is the current one.
  await page.getByRole('button', { name: 'Step forward' }).click();
  await page.waitForFunction((n) => document.querySelectorAll('details.events-text li').length === n + 1, before);
  const current = list.locator('li[aria-current=step]');
  assert.equal(await current.count(), 1);
  assert.equal(await current.evaluate((li) => li === li.parentElement.lastElementChild), true);
  assert.match(await current.textContent(), /^t=\d+ ms: /);
  // Every line is a sentence with a time; deliveries name sender and receiver.
  await page.getByRole('button', { name: 'Go to end' }).click();
  await page.waitForFunction(() => {
    const lis = document.querySelectorAll('details.events-text li');
    return lis.length > 0 && lis[lis.length - 1].getAttribute('aria-current') === 'step'
      && lis.length === Number(document.querySelector('details.events-text summary').textContent.match(/of (\d+)/)[1]);
  });
  const texts = await list.locator('li').allTextContents();
  assert.ok(texts.every((t) => /^t=\d+ ms: \S/.test(t)), texts.find((t) => !/^t=\d+ ms: /.test(t)));
  assert.ok(texts.some((t) => / receives .+ from /.test(t)), 'a delivery in words');
  assert.ok(texts.some((t) => / sends .+ to /.test(t)), 'a send in words');
  await details.scrollIntoViewIfNeeded();
  await shot(page, 'events-as-text');
  // Closed again: nothing is rendered.
  await details.locator('summary').click();
  await page.waitForFunction(() => document.querySelectorAll('details.events-text li').length === 0);
  assert.deepEqual(page.errors(), []);
});
