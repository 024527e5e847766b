// The isolation-levels lab in Chromium against the release build: stepping, the level
// switch, side by side, the dependency graph, and bad input in the script editor.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, stop, newPage, shot } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await stop(env); });

const verdict = (page) => page.locator('.run .verdict').first();
const cell = (page, line) => page.locator('.stmt').nth(line);

test('home lists the isolation scenarios and opens one at statement 0', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/');
  await page.getByRole('link', { name: 'Write skew (doctors on call)' }).click();
  await page.waitForURL(/\/isolation\/write-skew\?level=rc&line=0$/);
  await page.getByText('0 of 9 statements submitted').waitFor();
  assert.deepEqual(page.errors(), []);
});

test('write skew: allowed at repeatable read (cycle named), prevented at serializable', async () => {
  const page = await newPage(env.browser, { width: 1440, height: 900 });
  await page.goto(env.base + '/isolation/write-skew?level=rr&line=0');
  await page.getByRole('button', { name: 'Go to end' }).click();
  await page.getByText('9 of 9 statements submitted').waitFor();
  assert.match(await verdict(page).textContent(), /write skew \(G2-item\)/);
  // The cycle is drawn: two rw edges in it.
  const graph = page.getByRole('img', { name: 'Dependency graph' });
  await graph.waitFor();
  assert.equal(await graph.locator('g.dep.in-cycle[data-kind="rw"]').count(), 2);
  assert.match(await page.locator('.finding').first().textContent(), /T1 → T2 \(rw/);
  // Nobody is on call at the end.
  assert.match(await cell(page, 8).textContent(), /\(no rows\)/);
  await shot(page, 'isolation-write-skew-rr');

  await page.getByRole('radio', { name: 'Serializable (SSI)' }).check();
  await page.waitForURL(/level=ser/);
  assert.match(await verdict(page).textContent(), /No anomaly/);
  // T2's COMMIT fails with PostgreSQL's SSI error.
  assert.match(await cell(page, 7).textContent(), /ERROR 40001: could not serialize access due to read\/write dependencies among transactions/);
  assert.match(await cell(page, 8).textContent(), /bob/);
  assert.deepEqual(page.errors(), []);
});

test('stepping: arrow keys move one statement; a blocked statement says whom it waits for', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/isolation/lost-update?level=2pl&line=4');
  await page.getByText('4 of 9 statements submitted').waitFor();
  await page.keyboard.press('ArrowRight');
  await page.getByText('5 of 9 statements submitted').waitFor();
  // Under 2PL T1's update waits for T2's share lock …
  assert.match(await cell(page, 4).textContent(), /waiting for T2/);
  assert.match(await page.locator('.panel', { hasText: 'Locks and waits' }).textContent(), /T1 waits for T2/);
  await page.keyboard.press('ArrowLeft');
  await page.getByText('4 of 9 statements submitted').waitFor();
  await page.getByRole('button', { name: 'Step forward' }).click();
  await page.getByRole('button', { name: 'Step forward' }).click();
  await page.getByText('6 of 9 statements submitted').waitFor();
  // … and T2's closes a deadlock: T1, the first to wait, is the victim.
  assert.match(await cell(page, 4).textContent(), /ERROR 40P01/);
  assert.deepEqual(page.errors(), []);
});

test('side by side: read committed loses the update, repeatable read refuses it', async () => {
  const page = await newPage(env.browser, { width: 1440, height: 900 });
  await page.goto(env.base + '/isolation/lost-update?level=rc&compare=rr');
  const runs = page.locator('section.run');
  await runs.nth(1).waitFor();
  assert.match(await runs.nth(0).locator('.verdict').textContent(), /lost update/);
  assert.match(await runs.nth(1).locator('.verdict').textContent(), /No anomaly/);
  assert.match(await runs.nth(1).textContent(), /ERROR 40001: could not serialize access due to concurrent update/);
  await shot(page, 'isolation-lost-update-side-by-side');
  assert.deepEqual(page.errors(), []);
});

test('bad SQL fails in its own pane; the rest of the script still runs', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/isolation/dirty-read?level=rc');
  await page.getByText('Edit the script').click();
  const box = page.getByRole('textbox', { name: 'Script' });
  const text = await box.inputValue();
  await box.fill(text.replace('T2: select * from accounts where id = 1;', 'T2: selec * from accounts where id = 1;'));
  await page.getByRole('button', { name: 'Run this script' }).click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  const bad = page.locator('.stmt[data-session="T2"]').nth(1);
  assert.match(await bad.textContent(), /ERROR 42601: .*line 6/);
  // T2's block is aborted, as PostgreSQL would: its next statement answers 25P02.
  assert.match(await page.locator('.stmt[data-session="T2"]').nth(2).textContent(), /25P02/);
  // A malformed line prefix is reported with its line, and the text is kept.
  await box.fill(text + '\nthis is not a line\n');
  await page.getByRole('button', { name: 'Run this script' }).click();
  assert.match(await page.locator('.editor [role=alert]').textContent(), /Line 11, column 1/);
  assert.match(await box.inputValue(), /this is not a line/);
  assert.deepEqual(page.errors(), []);
});

test('a second waiter for a row waits in line behind the first, as in PostgreSQL', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/isolation/lost-update?level=rc&line=0');
  await page.getByText('Edit the script').click();
  const box = page.getByRole('textbox', { name: 'Script' });
  await box.fill([
    'setup: create table t (id int primary key, value int);',
    'setup: insert into t values (1, 10);',
    'T2: begin;',
    'T2: select * from t where id = 1 for update;',
    'T1: update t set value = value + 1 where id = 1;',
    'T3: update t set value = value * 10 where id = 1;',
    'T2: commit;',
  ].join('\n'));
  await page.getByRole('button', { name: 'Run this script' }).click();
  await page.getByText('0 of 5 statements submitted').waitFor();
  for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Step forward' }).click();
  await page.getByText('4 of 5 statements submitted').waitFor();
  assert.match(await page.locator('.stmt[data-session="T1"]').first().textContent(), /waiting for T2 \(its lock\)/);
  assert.match(await page.locator('.stmt[data-session="T3"]').first().textContent(), /waiting behind T1, which is first in line for the same row/);
  assert.match(await page.locator('.panel', { hasText: 'Locks and waits' }).textContent(), /T3 waits for T1, first in line for the same row/);
  // T2 commits: T1 adds one to 10, then T3 multiplies T1's 11.
  await page.getByRole('button', { name: 'Step forward' }).click();
  await page.getByText('5 of 5 statements submitted').waitFor();
  const versions = await page.locator('table.versions').first().textContent();
  assert.match(versions, /110/);
  assert.deepEqual(page.errors(), []);
});

test('a line for a waiting session queues, an unknown table fails in its pane, the panels show versions', async () => {
  const page = await newPage(env.browser, { width: 1440, height: 900 });
  await page.goto(env.base + '/isolation/lost-update?level=rc&line=0');
  await page.getByText('Edit the script').click();
  const box = page.getByRole('textbox', { name: 'Script' });
  await box.fill([
    'setup: create table t (id int primary key, value int);',
    'setup: insert into t values (1, 10);',
    'T1: begin;',
    'T1: update t set value = 11 where id = 1;',
    'T2: update t set value = 12 where id = 1;',
    'T2: select * from t;',
    'T1: select * from nosuch;',
    'T1: rollback;',
  ].join('\n'));
  await page.getByRole('button', { name: 'Run this script' }).click();
  await page.getByText('0 of 6 statements submitted').waitFor();
  for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Step forward' }).click();
  await page.getByText('4 of 6 statements submitted').waitFor();
  const t2 = page.locator('.stmt[data-session="T2"]');
  assert.match(await t2.nth(0).textContent(), /waiting for T1/);
  assert.match(await t2.nth(1).textContent(), /queued: this session is still waiting/);
  // Row versions: row 1's old version is being changed by T1, its new one uncommitted.
  const versions = page.locator('.panel', { hasText: 'Row versions' });
  assert.match(await versions.textContent(), /live; being changed/);
  assert.match(await versions.textContent(), /uncommitted/);
  // The unknown table fails in T1's pane and aborts T1's block (releasing its row lock):
  // T2's update goes ahead, then its queued SELECT. Nothing else is lost.
  await page.getByRole('button', { name: 'Step forward' }).click();
  await page.getByText('5 of 6 statements submitted').waitFor();
  assert.match(await page.locator('.stmt[data-session="T1"]').nth(2).textContent(), /ERROR 42P01: relation "nosuch" does not exist/);
  assert.match(await t2.nth(0).textContent(), /waited for T1, then: UPDATE 1/);
  assert.match(await t2.nth(1).textContent(), /12/);
  assert.match(await page.locator('.panel', { hasText: 'Transactions and snapshots' }).textContent(), /aborted/);
  assert.deepEqual(page.errors(), []);
});

test('read uncommitted says that PostgreSQL runs it as read committed', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/isolation/dirty-read?level=ru');
  assert.match(await page.locator('.iso').textContent(), /PostgreSQL itself runs READ UNCOMMITTED as READ COMMITTED/);
  assert.deepEqual(page.errors(), []);
});

test('an unknown scenario says so', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/isolation/no-such-thing');
  assert.match(await page.getByRole('alert').textContent(), /no isolation scenario called "no-such-thing"/);
  assert.deepEqual(page.errors(), []);
});
