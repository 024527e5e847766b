// The "Isolation levels" lesson in Chromium against the release build: the narration
// beside the workbench, steps that load their script, level and cursor, Page Down, the
// experimenting banner, and the closing challenge solved two ways in the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, stop, newPage, shot } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await stop(env); });

const cell = (page, line) => page.locator('.stmt').nth(line);
const challenge = (page) => page.locator('.challenge');

test('home lists the lesson; step 2 stops on the dirty read and says so', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 720 });
  await page.goto(env.base + '/');
  await page.locator('.lesson-card', { hasText: 'Isolation levels' }).getByRole('link', { name: 'Start lesson →' }).click();
  await page.waitForURL(/\/lesson\/isolation-levels\?step=1$/);
  await page.getByText('0 of 7 statements submitted').waitFor();
  assert.equal(await page.getByRole('radio', { name: 'Read uncommitted' }).isChecked(), true);
  await page.keyboard.press('PageDown');
  await page.waitForURL(/step=2$/);
  await page.getByRole('heading', { name: 'A dirty read' }).waitFor();
  await page.getByText('4 of 7 statements submitted').waitFor();
  // T2's read returns the uncommitted 400, and the page names the dirty read as it happens.
  assert.match(await cell(page, 3).textContent(), /400/);
  assert.match(await page.locator('.run .verdict').first().textContent(), /Dirty read: T2 \(\d+\) read data T1 \(\d+\) has not committed/);
  await shot(page, 'isolation-lesson-dirty-read');
  // The arrows step the statements inside the lesson.
  await page.keyboard.press('ArrowRight');
  await page.getByText('5 of 7 statements submitted').waitFor();
  assert.deepEqual(page.errors(), []);
});

test('a comparison step shows both levels; leaving the step offers the way back', async () => {
  const page = await newPage(env.browser, { width: 1440, height: 900 });
  await page.goto(env.base + '/lesson/isolation-levels?step=8');
  await page.getByRole('heading', { name: 'A lost update' }).waitFor();
  const runs = page.locator('section.run');
  await runs.nth(1).waitFor();
  assert.match(await runs.nth(0).locator('.run-title').textContent(), /Read committed/);
  assert.match(await runs.nth(1).locator('.run-title').textContent(), /Repeatable read/);
  assert.match(await runs.nth(0).locator('.verdict').textContent(), /lost update/);
  assert.match(await runs.nth(1).textContent(), /ERROR 40001: could not serialize access due to concurrent update/);
  assert.equal(await page.locator('.experimenting').count(), 0);
  await page.getByRole('radio', { name: 'Serializable (SSI)' }).check();
  await page.locator('.experimenting').waitFor();
  await page.getByRole('button', { name: 'Return to the lesson' }).click();
  await page.locator('.experimenting').waitFor({ state: 'detached' });
  assert.equal(await page.getByRole('radio', { name: 'Read committed' }).isChecked(), true);
  assert.deepEqual(page.errors(), []);
});

test('the challenge: unsolved as given, solved by FOR UPDATE and by SERIALIZABLE, not by deleting an update', async () => {
  const page = await newPage(env.browser, { width: 1440, height: 900 });
  await page.goto(env.base + '/lesson/isolation-levels?step=12');
  await page.getByRole('heading', { name: 'Your turn: keep a doctor on call' }).waitFor();
  await challenge(page).getByText('Challenge: not solved yet').waitFor();
  assert.match(await challenge(page).textContent(), /write skew \(G2-item\)/);

  // 1. Lock what you read.
  const editor = page.getByRole('textbox', { name: 'Script' });
  const original = await editor.inputValue();
  await editor.fill(original.replaceAll('where on_call = 1;', 'where on_call = 1 for update;'));
  await page.getByRole('button', { name: 'Run this script' }).click();
  await challenge(page).getByText('✓ Challenge solved!').waitFor();
  // T2's locking read waited for T1, then failed: the row changed after its snapshot.
  await page.getByRole('button', { name: 'Go to end' }).click();
  assert.match(await cell(page, 3).textContent(), /ERROR 40001: could not serialize access due to concurrent update/);
  await shot(page, 'isolation-lesson-challenge-solved');

  // 2. Deleting Bob's update is not a fix.
  await editor.fill(original.replace('T2: update doctors set on_call = 0 where id = 2;\n', ''));
  await page.getByRole('button', { name: 'Run this script' }).click();
  await challenge(page).getByText('Challenge: not solved yet').waitFor();
  assert.match(await challenge(page).textContent(), /T2: update doctors set on_call = 0 where id = 2 is missing/);

  // 3. The original script at SERIALIZABLE.
  await page.getByRole('button', { name: 'Restore the scenario' }).click();
  await challenge(page).getByText('Challenge: not solved yet').waitFor();
  await page.getByRole('radio', { name: 'Serializable (SSI)' }).check();
  await challenge(page).getByText('✓ Challenge solved!').waitFor();
  assert.match(await challenge(page).textContent(), /Checked on your script at Serializable \(SSI\)/);
  assert.deepEqual(page.errors(), []);
});

test('a bad line in the challenge script fails in its pane and keeps the rest', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/isolation-levels?step=12');
  const editor = page.getByRole('textbox', { name: 'Script' });
  await editor.waitFor();
  const original = await editor.inputValue();
  await editor.fill(original.replace('T2: commit;', 'T2: comit;'));
  await page.getByRole('button', { name: 'Run this script' }).click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  assert.match(await cell(page, 7).textContent(), /ERROR 42601/);
  assert.match(await challenge(page).textContent(), /T2's transaction never commits|not a serialization failure/);
  assert.equal(await editor.inputValue(), original.replace('T2: commit;', 'T2: comit;'));
  assert.deepEqual(page.errors(), []);
});
