// The linearizability checker in Chromium against the release build: /check opens real
// histories (Knossos EDN, Porcupine etcd logs) and Distlab's JSON and gives the reference
// verdicts; malformed input is reported with its line; the replication lesson's stale read
// is judged not linearizable live, with the operation that cannot be placed marked.
// DISTLAB_E2E_BASE=http://127.0.0.1:PORT runs against a server already serving a build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { suite, newPage, shot } from './harness.mjs';

const env = suite();

const TESTDATA = process.env.DISTLAB_TESTDATA || path.resolve('../shared/testdata');
const haveTestdata = fs.existsSync(path.join(TESTDATA, 'knossos/EXPECTED.tsv'));

test('check page: the example is not linearizable; the missed read is marked', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/check');
  await page.getByRole('button', { name: 'Load an example' }).click();
  const verdict = page.getByTestId('lin-verdict');
  await verdict.waitFor();
  assert.equal(await verdict.getAttribute('data-outcome'), 'not-linearizable');
  assert.match(await verdict.textContent(), /Not linearizable/);
  // Bob's read (op 2) cannot be placed; the write and Alice's read form the prefix.
  assert.equal(await page.locator('.history-chart g.hist-op.blocked').count(), 1);
  assert.equal(await page.locator('.history-chart g.hist-op.blocked').getAttribute('data-op'), '2');
  assert.equal(await page.locator('.history-chart g.hist-op.linearized').count(), 2);
  assert.match(await page.getByTestId('check-facts').textContent(), /3 operations by 3 clients, checked as a register/);
  await shot(page, 'check-example');
  assert.deepEqual(page.errors(), []);
});

test('check page: Knossos and Porcupine files get their reference verdicts', { skip: !haveTestdata && `testdata absent (${TESTDATA}); set DISTLAB_TESTDATA` }, async () => {
  const page = await newPage(env.browser, { width: 1440, height: 900 });
  await page.goto(env.base + '/check');
  await page.getByRole('combobox', { name: 'Model' }).selectOption('cas-register');
  const cases = [
    ['knossos/good_cas-register-bug.edn', '0', 'linearizable'],
    ['knossos/bad_bad-analysis.edn', '0', 'not-linearizable'],
    ['porcupine/jepsen/etcd_000.log', '', 'not-linearizable'],
    ['porcupine/jepsen/etcd_002.log', '', 'linearizable'],
  ];
  for (const [file, initial, expected] of cases) {
    await page.getByRole('textbox', { name: 'Initial value' }).fill(initial);
    await page.getByLabel('Open a history file').setInputFiles(path.join(TESTDATA, file));
    await page.getByText(`Opened ${path.basename(file)}.`).waitFor();
    const verdict = page.getByTestId('lin-verdict');
    await page.waitForFunction((want) => document.querySelector('[data-testid=lin-verdict]')?.dataset.outcome === want, expected, { timeout: 30000 });
    assert.equal(await verdict.getAttribute('data-outcome'), expected, file);
    assert.match(await page.getByTestId('check-facts').textContent(), /checked as a cas-register/);
    if (expected === 'not-linearizable') {
      assert.equal(await page.locator('.history-chart g.hist-op.blocked').count(), 1, file);
    }
  }
  await shot(page, 'check-etcd');
  assert.deepEqual(page.errors(), []);
});

test('check page: malformed input says what and where, and keeps the text', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/check');
  const text = '{"ops": [\n  {"client": 0, "call": 0, "ret": 4, "status": "ok", "op": {"f": "write", "value": "1"}},\n  {"client": 1, "call": "soon"}\n]}';
  await page.getByRole('textbox', { name: 'History' }).fill(text);
  const err = page.getByRole('alert');
  await err.waitFor();
  assert.match(await err.textContent(), /cannot be read: line 3/);
  assert.equal(await page.getByRole('textbox', { name: 'History' }).inputValue(), text);
  await page.getByRole('textbox', { name: 'History' }).fill('{:process 0, :type :invoke, :f :read :value');
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').textContent(), /line 1/);
  assert.deepEqual(page.errors(), []);
});

test('replication lesson: the stale read is not linearizable, live', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/replication-lag?step=6');
  const verdict = page.getByTestId('lin-verdict');
  await verdict.waitFor();
  assert.equal(await verdict.getAttribute('data-outcome'), 'not-linearizable');
  assert.match(await verdict.textContent(), /bob/);
  // Marked on the space-time diagram too.
  assert.ok(await page.locator('svg.diagram .stale').count() >= 1);
  // Back at the start, before any operation, there is nothing to judge.
  await page.keyboard.press('Home');
  await page.locator('.history-panel').waitFor({ state: 'detached' });
  await shot(page, 'replication-history');
  assert.deepEqual(page.errors(), []);
});
