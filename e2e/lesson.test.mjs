// The replication-lag lesson in Chromium against the release build: what a learner sees and does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, stop, newPage, shot, stepOf } from './harness.mjs';
import { execFileSync } from 'node:child_process';

let env;
before(async () => { env = await start(); });
after(async () => { await stop(env); });

const diagram = (page) => page.getByRole('img', { name: /^Space-time diagram/ });

test('home lists the lesson and opens it on step 1', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/');
  await page.getByRole('link', { name: 'Start lesson →' }).first().click();
  await page.waitForURL(/\/lesson\/replication-lag\?step=1$/);
  await diagram(page).waitFor();
  assert.match(await page.locator('.narration h2').textContent(), /Three replicas, three cities/);
  await shot(page, 'lesson-step-1');
  assert.deepEqual(page.errors(), []);
});

test('stepping through the lesson shows Alice fresh and Bob stale, marked on the diagram', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/replication-lag?step=1');
  await diagram(page).waitFor();
  for (let i = 2; i <= 6; i++) {
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await page.waitForURL(new RegExp(`step=${i}$`));
  }
  assert.match(await page.locator('.narration h2').textContent(), /Bob refreshes/);
  // The read that returned the old score is marked, with the reason in words.
  const stale = page.locator('g.event.stale:not(.future)');
  await stale.first().waitFor();
  assert.equal(await stale.count(), 1);
  assert.equal(await stale.getAttribute('data-node'), 'bob');
  const op = page.locator('li.op.stale');
  assert.match(await op.textContent(), /bob reads score from follower-2.*3–3 live/s);
  assert.match(await op.textContent(), /Stale read\..*acknowledged at 404 ms, before the read began/s);
  // Alice's read is not stale.
  assert.match(await page.locator('li.op.read:not(.stale)').first().textContent(), /alice.*ARG 4–2 final/s);
  // Follower-2 lags by one entry.
  assert.match(await page.locator('.replicas tr[data-node="follower-2"]').textContent(), /1 behind/);
  // The final score's append to Sydney is still in flight, drawn as a moving arrow.
  assert.ok(await page.locator('g.message.in-flight[data-to="follower-2"][data-kind="append"]').count() >= 1);
  // Hover shows the event's details; keyboard focus on a message shows its contents.
  await stale.first().hover();
  const tip = page.getByRole('tooltip');
  await tip.waitFor();
  assert.match(await tip.textContent(), /bob: #\d+ \(bob-read\) returns → 3–3 live/);
  assert.match(await tip.textContent(), /stale read.*acknowledged at 404 ms, before the read began/s);
  await page.locator('g.message[data-kind="append"][data-to="follower-1"]:not(.future)').last().focus();
  assert.match(await tip.textContent(), /append #2.*sent.*402 ms.*delivered/s);
  await shot(page, 'lesson-step-6-stale-read');
  assert.deepEqual(page.errors(), []);
});

test('URL follows the step; Page Down / Page Up move through the lesson', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/replication-lag?step=3');
  await diagram(page).waitFor();
  await page.keyboard.press('PageDown');
  await page.waitForURL(/step=4$/);
  await page.keyboard.press('PageUp');
  await page.keyboard.press('PageUp');
  await page.waitForURL(/step=2$/);
  assert.match(await page.locator('.narration h2').textContent(), /The equaliser/);
  assert.deepEqual(page.errors(), []);
});

test('transport: step forward and back, go to start and end, keyboard and buttons', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/replication-lag?step=1');
  await diagram(page).waitFor();
  assert.equal((await stepOf(page)).step, 0);
  await page.getByRole('button', { name: 'Step forward' }).click();
  await page.getByRole('button', { name: 'Step forward' }).click();
  assert.equal((await stepOf(page)).step, 2);
  await page.keyboard.press('ArrowRight');
  assert.equal((await stepOf(page)).step, 3);
  await page.keyboard.press('ArrowLeft');
  await page.getByRole('button', { name: 'Step back' }).click();
  assert.equal((await stepOf(page)).step, 1);
  await page.getByRole('button', { name: 'Go to end' }).click();
  const end = await stepOf(page);
  assert.equal(end.step, end.of);
  await page.keyboard.press('Home');
  assert.equal((await stepOf(page)).step, 0);
  // Play advances by itself; Space pauses.
  await page.getByRole('button', { name: 'Play' }).click();
  await page.waitForTimeout(700);
  await page.getByRole('button', { name: 'Pause' }).click();
  const played = (await stepOf(page)).step;
  assert.ok(played > 0, `play should advance, got step ${played}`);
  await page.waitForTimeout(400);
  assert.equal((await stepOf(page)).step, played, 'paused run must not advance');
  assert.deepEqual(page.errors(), []);
});

test('crashing a follower live: its messages are lost, writes under sync block, stepping back works', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/replication-lag?step=1');
  await diagram(page).waitFor();
  await page.getByRole('combobox', { name: 'Replication mode' }).selectOption({ label: 'synchronous' });
  // Run until the equaliser has been sent to the followers, then crash Sydney.
  for (let i = 0; i < 2; i++) await page.getByRole('button', { name: 'Step forward' }).click();
  await page.getByRole('button', { name: 'Crash follower-2' }).first().click();
  await page.getByRole('button', { name: 'Restart follower-2' }).first().waitFor();
  assert.ok(await page.locator('.experimenting').isVisible(), 'leaving the script is announced');
  await page.getByRole('button', { name: 'Go to end' }).click();
  // The append in flight to the crashed node ended in a cross; the writes never got ok.
  const dropped = page.locator('g.message[data-dropped="true"][data-to="follower-2"]:not(.future)');
  assert.ok(await dropped.count() >= 1, 'a message to the crashed follower is dropped');
  assert.equal(await dropped.first().getAttribute('data-drop-reason'), 'the receiver was down (crashed)');
  assert.match(await page.locator('li.op.write').first().textContent(), /waiting…/);
  assert.match(await page.locator('.replicas tr[data-node="leader"]').textContent(), /waiting for follower acks/);
  await shot(page, 'crash-follower-sync-blocks');
  // Step back: the crash disappears from the past.
  await page.keyboard.press('Home');
  assert.equal(await page.getByRole('button', { name: 'Crash follower-2' }).count(), 2);
  // Return to the lesson.
  await page.getByRole('button', { name: 'Return to the lesson' }).click();
  assert.equal(await page.locator('.experimenting').count(), 0);
  assert.deepEqual(page.errors(), []);
});

test('clicking an in-flight message drops it', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/replication-lag?step=4');
  await diagram(page).waitFor();
  await page.waitForTimeout(800); // let the animation settle
  const flying = page.locator('g.message.in-flight[data-to="follower-2"]').first();
  await flying.waitFor();
  const id = await flying.getAttribute('data-id');
  await flying.locator('.packet').click();
  const gone = page.locator(`g.message[data-id="${id}"][data-dropped="true"]:not(.future)`);
  await gone.waitFor();
  assert.match(await page.locator('.diagram').getAttribute('aria-label'), /^Space-time diagram/);
  // Follower-2 then misses index 2 until the leader retransmits.
  assert.deepEqual(page.errors(), []);
});

test('the challenge is checked live: cut Paris off, let Bob read there after the ack', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/replication-lag?step=15');
  await diagram(page).waitFor();
  assert.match(await page.locator('.challenge').textContent(), /not solved yet/);
  await page.getByRole('button', { name: /^Link leader – follower-1/ }).click();
  await page.getByRole('button', { name: 'Cut link' }).click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  await page.getByRole('combobox', { name: 'Client', exact: true }).selectOption({ label: 'bob' });
  await page.getByRole('combobox', { name: 'Replica to read from' }).selectOption({ label: 'follower-1' });
  await page.getByRole('button', { name: 'Read', exact: true }).click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  await page.locator('.challenge.met').waitFor();
  assert.match(await page.locator('.challenge').textContent(), /Challenge solved/);
  await shot(page, 'challenge-solved');
  assert.deepEqual(page.errors(), []);
});

test('unknown lessons, steps and pages get a clear message and a way back', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/no-such-lesson');
  assert.match(await page.getByRole('alert').textContent(), /no lesson called "no-such-lesson"/);
  await page.goto(env.base + '/lesson/replication-lag?step=99');
  assert.match(await page.locator('.step-error').textContent(), /steps 1 to 15; there is no step 99/);
  await page.getByRole('link', { name: 'Go to step 1' }).click();
  await page.waitForURL(/step=1$/);
  await page.goto(env.base + '/lesson/replication-lag?step=abc');
  assert.match(await page.locator('.step-error').textContent(), /"abc" is not a step number/);
  await page.goto(env.base + '/nowhere/at/all');
  assert.match(await page.getByRole('alert').textContent(), /Page not found/);
  await page.getByRole('link', { name: '← All lessons' }).click();
  await page.waitForURL(env.base + '/');
  assert.deepEqual(page.errors(), []);
});

test('projector and laptop sizes: nothing essential is cut off', async () => {
  for (const vp of [{ width: 1280, height: 720 }, { width: 1920, height: 1080 }, { width: 1366, height: 768 }]) {
    const page = await newPage(env.browser, vp);
    // Step 11 has the longest narration (a table): Next must still be on screen.
    await page.goto(env.base + '/lesson/replication-lag?step=11');
    await diagram(page).waitFor();
    const next = await page.getByRole('button', { name: 'Next', exact: true }).boundingBox();
    assert.ok(next.y + next.height <= vp.height, `Next visible on step 11 at ${vp.width}x${vp.height}`);
    const table = await page.locator('.narration-text table').boundingBox();
    const aside = await page.locator('aside.narration').boundingBox();
    assert.ok(table.x + table.width <= aside.x + aside.width + 1, 'the narration table fits its column');
    await page.goto(env.base + '/lesson/replication-lag?step=6');
    await diagram(page).waitFor();
    await page.waitForTimeout(600);
    for (const name of ['Next', 'Play', 'Step forward', 'Step back']) {
      const box = await page.getByRole('button', { name, exact: true }).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= vp.width && box.y >= 0 && box.y + box.height <= vp.height, `${name} visible at ${vp.width}x${vp.height}`);
    }
    const svg = await diagram(page).boundingBox();
    assert.ok(svg.x + 50 < vp.width && svg.y + svg.height <= vp.height + 1, `diagram fits at ${vp.width}x${vp.height}`);
    await shot(page, `step-6-${vp.width}x${vp.height}`);
    assert.deepEqual(page.errors(), []);
    await page.close();
  }
});

test('the browser simulates exactly what the native engine does (trace digests match)', async () => {
  const page = await newPage(env.browser);
  for (const step of [6, 10, 14]) {
    await page.goto(env.base + `/lesson/replication-lag?step=${step}`);
    await diagram(page).waitFor();
    const browser = await diagram(page).getAttribute('data-trace-digest');
    const native = execFileSync('cargo', ['run', '--quiet', '-p', 'distlab-cli', '--', 'run', '--lesson', 'replication-lag', '--step', String(step)], { encoding: 'utf8' });
    const m = native.match(/digest ([0-9a-f]{16})/);
    assert.ok(m, native);
    assert.equal(browser, m[1], `step ${step}: browser trace differs from native`);
  }
  assert.deepEqual(page.errors(), []);
});
