// Time and causality in Chromium against the release build: the "Logical clocks" and
// "Concurrent writes and version vectors" lessons, and opening ShiViz logs in the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, stop, newPage, shot } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await stop(env); });

const SMALL_LOG = [
  'a sends hello',
  'a {"a":1}',
  'b does something local',
  'b {"b":1}',
  'b receives hello',
  'b {"a":1, "b":2}',
].join('\n');

test('logical clocks: the home page lists the lesson; the clock table follows the run', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 720 });
  await page.goto(env.base + '/');
  await page.locator('.lesson-card', { hasText: 'Logical clocks' }).getByRole('link', { name: 'Start lesson →' }).click();
  await page.waitForURL(/\/lesson\/logical-clocks\?step=1$/);
  await page.getByRole('heading', { name: 'Three machines, three clocks' }).waitFor();
  await page.goto(env.base + '/lesson/logical-clocks?step=5');
  await page.getByRole('heading', { name: 'Vector clocks', exact: true }).waitFor();
  const row = (name) => page.locator('.clock-table tbody tr', { has: page.getByRole('rowheader', { name, exact: true }) });
  // At the end of the run: C received m2 ([1, 2, 2]) and then sent m3 ([1, 2, 3]).
  await row('C').getByText('[1, 2, 3]').waitFor();
  assert.match(await row('B').textContent(), /-30 ms/);
  assert.match(await row('A').textContent(), /\[3, 2, 3\]/);
  // Stepping back to the start empties the clocks.
  await page.getByRole('button', { name: 'Go to start' }).click();
  await row('C').getByText('[0, 0, 0]').waitFor();
  await shot(page, 'clocks-lesson-vector-clocks');
  assert.deepEqual(page.errors(), []);
});

test('logical clocks: questions are answered, then the run\'s answer is revealed', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 720 });
  await page.goto(env.base + '/lesson/logical-clocks?step=5');
  const box = page.locator('section.question');
  await box.getByText('Which events are concurrent with').waitFor();
  const check = box.getByRole('button', { name: 'Check answer' });
  assert.equal(await check.isDisabled(), true, 'nothing picked yet');
  // One right and one wrong pick: both are marked, and the missed ones are shown.
  await box.getByRole('checkbox', { name: /C: C writes x/ }).check();
  await box.getByRole('checkbox', { name: /A: send m1/ }).check();
  await check.click();
  await box.getByText('Not quite: the right answers are marked.').waitFor();
  assert.equal(await box.locator('.option.wrong').count(), 1);
  assert.match(await box.locator('.option.wrong').textContent(), /A: send m1/);
  assert.equal(await box.locator('.option.right').count(), 5, 'five events are concurrent with “A writes y”');
  assert.match(await box.locator('.why').textContent(), /5 events are concurrent with “A: A writes y”.*\[2, 0, 0\]/);
  await shot(page, 'clocks-lesson-question-revealed');
  // Try again, with exactly the right set.
  await box.getByRole('button', { name: 'Try again' }).click();
  for (const e of ['C: C writes x', 'B ← A: m1', 'B: send m2', 'C ← B: m2', 'C: send m3']) {
    await box.getByRole('checkbox', { name: e }).check();
  }
  await box.getByRole('button', { name: 'Check answer' }).click();
  await box.getByText('✓ Right.').waitFor();
  // A relation question: one radio button; the answer comes with its reason.
  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await page.waitForURL(/step=3$/);
  await box.getByRole('radio', { name: /They are concurrent/ }).check();
  await box.getByRole('button', { name: 'Check answer' }).click();
  await box.getByText('✓ Right.').waitFor();
  assert.match(await box.locator('.why').textContent(), /incomparable/);
  assert.deepEqual(page.errors(), []);
});

test('logical clocks: Lamport timestamps beside vector clocks, with a counter-example marked', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 720 });
  await page.goto(env.base + '/lesson/logical-clocks?step=4');
  const panel = page.locator('section.lamport-vs-vector');
  // Up to 80 ms: six events, 15 pairs, 7 of them concurrent.
  await panel.getByText('6 events, 15 pairs.').waitFor();
  assert.match(await panel.textContent(), /happens-before orders 8 of them\. The other 7 pairs are concurrent/);
  const example = panel.getByTestId('lamport-counterexample');
  assert.match(await example.textContent(), /“C: C writes x” has L = 1 and “B: send m2” L = 3/);
  assert.equal(await page.locator('g.event.lamport-only').count(), 0);
  await panel.getByRole('button', { name: 'Mark it on the diagram' }).click();
  const marked = page.locator('g.event.lamport-only');
  await marked.nth(1).waitFor();
  assert.deepEqual((await marked.evaluateAll((els) => els.map((e) => e.dataset.node))).sort(), ['B', 'C']);
  // Another counter-example replaces it, on the diagram too.
  const before = await example.textContent();
  await panel.getByRole('button', { name: /Another one/ }).click();
  assert.notEqual(await example.textContent(), before);
  assert.equal(await marked.count(), 2);
  // The table lists the events in Lamport order, marking where that order is arbitrary.
  await panel.getByText('The events in Lamport order').click();
  const rows = panel.locator('tbody tr');
  assert.equal(await rows.count(), 6);
  assert.match(await rows.nth(0).textContent(), /\(1, A\).*A: send m1/);
  assert.equal(await panel.locator('tbody tr.arbitrary').count(), 3);
  await shot(page, 'clocks-lesson-lamport-vs-vector');
  assert.deepEqual(page.errors(), []);
});

test('physical clocks: the row headers show skew; skewing a replica solves the last-write-wins challenge', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 720 });
  await page.goto(env.base + '/lesson/logical-clocks?step=1');
  await page.locator('.row-head', { hasText: 'Virginia' }).getByText('clock -30 ms').waitFor();
  await page.goto(env.base + '/lesson/version-vectors?step=11');
  await page.getByRole('heading', { name: 'Your turn: a clock that loses a write' }).waitFor();
  const status = page.locator('.challenge');
  await status.getByText('Challenge: not solved yet').waitFor();
  const skew = page.getByLabel('Clock skew of r2 (ms)');
  // 30 ms behind is not enough: Bob writes 60 ms after Alice.
  await skew.fill('-30');
  await skew.press('Enter');
  await page.locator('.row-head', { hasText: 'r2' }).getByText('clock -30 ms').waitFor();
  await page.getByText('You are experimenting').waitFor();
  assert.match(await status.textContent(), /not solved yet/);
  await skew.fill('-100');
  await skew.press('Enter');
  await status.getByText('Challenge solved!').waitFor();
  await page.locator('[data-testid=lost-writes]').getByText(/bob's write .* was discarded/).waitFor();
  // A value that is not a number is refused with a message, and the run is kept.
  await page.getByLabel('Clock drift of r1 (ppm)').fill('');
  await page.getByLabel('Clock drift of r1 (ppm)').press('Enter');
  await page.getByRole('alert').getByText(/Clock drift of r1/).waitFor();
  assert.match(await status.textContent(), /Challenge solved/);
  await shot(page, 'version-vectors-clock-challenge');
  assert.deepEqual(page.errors(), []);
});

test('version vectors: siblings, a resurrected item, and the writes last-write-wins loses', async () => {
  const page = await newPage(env.browser, { width: 1440, height: 900 });
  await page.goto(env.base + '/lesson/version-vectors?step=5');
  await page.getByRole('heading', { name: 'Merging siblings' }).waitFor();
  await page.getByText('[bacon, eggs, flour, ham, milk]').first().waitFor();
  assert.match(await page.locator('.kv-nodes').textContent(), /\[bacon, eggs, flour, milk\] \{db:5\}/);
  await page.goto(env.base + '/lesson/version-vectors?step=7');
  await page.getByRole('heading', { name: 'Removing an item' }).waitFor();
  assert.match(await page.getByTestId('resurrected').textContent(), /milk is back in cart/);
  await page.goto(env.base + '/lesson/version-vectors?step=10');
  await page.getByRole('heading', { name: 'When the clock is wrong' }).waitFor();
  const lost = page.getByTestId('lost-writes');
  assert.match(await lost.textContent(), /bob's write \(add eggs to cart\) came after it had seen \[milk\]/);
  assert.match(await lost.textContent(), /trusted a skewed clock over causality/);
  // The lost write is marked on the diagram too.
  assert.ok(await page.locator('svg .lost').count() > 0);
  await shot(page, 'version-vectors-lww-skew');
  assert.deepEqual(page.errors(), []);
});

test('a ShiViz log: pasted, counted and drawn; a bad one names its line and keeps the text', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 720 });
  await page.goto(env.base + '/clocks/import');
  const box = page.getByRole('textbox', { name: 'ShiViz log' });
  await box.fill(SMALL_LOG);
  await page.getByTestId('import-facts').getByText('2 hosts, 3 events, 1 messages inferred, 1 concurrent pairs').waitFor();
  // Select a's event: b's local event is concurrent with it, b's receipt is in its future.
  const a = page.locator('svg.diagram g.event[data-node="a"]');
  const b = page.locator('svg.diagram g.event[data-node="b"]');
  assert.equal(await a.count(), 1);
  assert.equal(await b.count(), 2);
  await a.first().click();
  assert.equal(await a.first().getAttribute('data-causal'), 'selected');
  assert.equal(await b.nth(0).getAttribute('data-causal'), 'concurrent');
  assert.equal(await b.nth(1).getAttribute('data-causal'), 'future');
  // Shift-click b's local event: the relation in words.
  await b.nth(0).click({ modifiers: ['Shift'] });
  const relation = page.locator('.relation');
  assert.equal(await relation.getAttribute('data-relation'), 'concurrent');
  // An imported log has no time unit: events are named without milliseconds.
  assert.match(await page.locator('.causal-selected').textContent(), /e = “a sends hello” · Lamport/);
  assert.doesNotMatch(await page.locator('.causal-panel, .causal-selected, .relation').allTextContents().then((t) => t.join(' ')), / ms\b/);
  await page.keyboard.press('Escape');
  assert.equal(await a.first().getAttribute('data-causal'), null);
  // Break the second event's clock: the error names line 4; the text is still there.
  const bad = SMALL_LOG.replace('b {"b":1}', 'b {"b":2}');
  await box.fill(bad);
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /line 4/);
  assert.equal(await box.inputValue(), bad);
  // The example is a simulated run exported by the page itself, and reads back.
  await page.getByRole('button', { name: 'Load an example' }).click();
  await page.getByTestId('import-facts').getByText(/3 hosts, \d+ events/).waitFor();
  await shot(page, 'shiviz-import');
  assert.deepEqual(page.errors(), []);
});
