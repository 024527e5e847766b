// Session guarantees in Chromium against the release build: the lesson names each anomaly
// in the Client operations panel (read-your-writes, monotonic reads, consistent prefix) and
// its fix removes it, with the cost shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite, newPage, shot } from './harness.mjs';

const env = suite();

const violations = (page, g) => page.locator(`li.session-violation[data-guarantee="${g}"]`);

test('session guarantees: each anomaly named, each fix removes it', async () => {
  const page = await newPage(env.browser, { width: 1440, height: 900 });
  await page.goto(env.base + '/lesson/session-guarantees?step=2');
  await page.getByRole('heading', { name: 'Alice reloads: where is my comment?' }).waitFor();
  await violations(page, 'read-your-writes').first().waitFor();
  assert.equal(await violations(page, 'read-your-writes').count(), 1);
  await shot(page, 'session-ryw');

  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByRole('heading', { name: 'Fix 1: read from the leader what you may have modified' }).waitFor();
  await page.locator('.session-guarantees').waitFor();
  assert.equal(await violations(page, 'read-your-writes').count(), 0);

  await page.goto(env.base + '/lesson/session-guarantees?step=5');
  await page.getByRole('heading', { name: 'Bob refreshes: the comment vanishes' }).waitFor();
  await violations(page, 'monotonic reads').first().waitFor();

  await page.goto(env.base + '/lesson/session-guarantees?step=9');
  await page.getByRole('heading', { name: 'Mr. Poons and Mrs. Cake' }).waitFor();
  await violations(page, 'consistent prefix').first().waitFor();
  await shot(page, 'session-consistent-prefix');
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByRole('heading', { name: 'Fix: causally related writes on one partition' }).waitFor();
  await page.locator('.session-guarantees').waitFor();
  assert.equal(await violations(page, 'consistent prefix').count(), 0);
  assert.deepEqual(page.errors(), []);
});
