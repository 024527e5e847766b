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
  await page.getByRole('heading', { name: 'Vector clocks' }).waitFor();
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
