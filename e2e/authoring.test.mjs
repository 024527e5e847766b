// Lesson authoring in Chromium (/lessons/open): the example lesson opened by its address,
// by the file picker and by drag and drop; malformed lessons (a syntax error, an unknown
// node, a built-in lesson's id) listed with their line and the offending line, the text
// kept for fixing; other sites refused; narration with <script> and <img onerror> shown
// as text with nothing executed; an imported lesson surviving a reload, listed on the
// course page, edited and removed.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { suite, newPage, shot } from './harness.mjs';

const EXAMPLE = '/public/lessons/example-stale-read.toml';

const env = suite();
let example; // { text, id, title }
before(async () => {
  await env.ready;
  const res = await fetch(env.base + EXAMPLE);
  assert.equal(res.status, 200, `${EXAMPLE} is served`);
  const text = await res.text();
  example = { text, id: text.match(/^id\s*=\s*"([^"]+)"/m)[1], title: text.match(/^title\s*=\s*"([^"]+)"/m)[1] };
});

/** A page that fails the test on any dialog (alert, confirm, prompt). */
async function strictPage(viewport = { width: 1280, height: 900 }) {
  const page = await newPage(env.browser, viewport);
  page.dialogs = [];
  page.on('dialog', async (d) => { page.dialogs.push(d.message()); await d.dismiss(); });
  return page;
}

/** A small valid replication lesson with `id` and `narration`. */
function lesson(id, narration = 'Watch the write.', extraStep = '') {
  return `id = "${id}"
title = "Test lesson ${id}"
summary = "One write, one read."
model = "replication"

[scenario]
leader = { name = "leader" }
followers = [{ name = "follower-1" }]
clients = [{ name = "alice" }]
actions = [{ at = 10, action = "write", client = "alice", key = "x", value = "1" }]

[[step]]
title = "A write"
${extraStep}text = """
${narration}
"""
`;
}

const box = (page) => page.getByRole('textbox', { name: 'Lesson file (TOML)' });

async function openAuthoring(page) {
  await page.goto(env.base + '/lessons/open');
  await page.getByRole('heading', { name: 'Open a lesson file', level: 1 }).waitFor();
}

async function expectOpened(page, id) {
  await page.waitForURL(new RegExp(`/lesson/${id}\\?step=1$`));
  await page.locator('.narration h2').waitFor();
  await page.locator('svg.diagram[aria-label^="Space-time diagram"]').waitFor();
}

test('the example lesson opens by its address, and survives a reload', async () => {
  const page = await strictPage();
  await openAuthoring(page);
  await page.getByLabel('Address of a lesson file on this site').fill(EXAMPLE);
  await page.getByRole('button', { name: 'Fetch and open' }).click();
  await expectOpened(page, example.id);
  await shot(page, 'authoring-example-opened');
  await page.reload();
  await page.locator('.narration h2').waitFor();
  assert.match(await page.locator('.narration .crumbs').textContent(), new RegExp(example.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  // Listed on the course page, in its own group, with its progress.
  await page.goto(env.base + '/course');
  const group = page.locator('.course-part', { has: page.getByRole('heading', { name: 'Imported lessons' }) });
  await group.waitFor();
  const c = group.locator(`.course-lesson[data-lesson="${example.id}"]`);
  assert.equal(await c.getAttribute('data-visited'), '1');
  assert.match(await c.textContent(), /Imported from http:\/\/127\.0\.0\.1:\d+\/public\/lessons\/example-stale-read\.toml/);
  await group.scrollIntoViewIfNeeded();
  await shot(page, 'course-with-imported');
  // And on the authoring page, with Open / Edit / Remove.
  await openAuthoring(page);
  const row = page.locator(`.imported[data-lesson="${example.id}"]`);
  await row.waitFor();
  await row.getByRole('button', { name: /^Remove/ }).click();
  await row.getByRole('button', { name: 'Keep' }).click();
  assert.equal(await page.locator(`.imported[data-lesson="${example.id}"]`).count(), 1, 'Keep keeps it');
  await row.getByRole('button', { name: /^Remove/ }).click();
  await row.getByRole('group', { name: 'Confirm removal' }).getByRole('button', { name: 'Remove' }).click();
  await page.getByRole('status').filter({ hasText: `Removed "${example.id}"` }).waitFor();
  assert.equal(await page.locator(`.imported[data-lesson="${example.id}"]`).count(), 0);
  await page.reload();
  await page.getByRole('heading', { name: 'Imported lessons' }).waitFor();
  assert.equal(await page.locator('.imported').count(), 0, 'the removal survives a reload');
  assert.deepEqual(page.dialogs, []);
  assert.deepEqual(page.errors(), []);
});

test('the example lesson opens by file picker and by drag and drop', async () => {
  const page = await strictPage();
  await openAuthoring(page);
  await page.locator('.import-box input[type=file]').setInputFiles({
    name: 'example-stale-read.toml', mimeType: 'text/plain', buffer: Buffer.from(example.text),
  });
  await expectOpened(page, example.id);
  await openAuthoring(page);
  const row = page.locator(`.imported[data-lesson="${example.id}"]`);
  assert.match(await row.textContent(), /from file example-stale-read\.toml/);

  // Drag and drop, in a fresh browser (empty storage).
  const page2 = await strictPage();
  await openAuthoring(page2);
  await page2.locator('.import-box').evaluate((el, text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'dropped.toml', { type: 'text/plain' }));
    el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, example.text);
  await expectOpened(page2, example.id);
  await openAuthoring(page2);
  assert.match(await page2.locator(`.imported[data-lesson="${example.id}"]`).textContent(), /from file dropped\.toml/);
  for (const p of [page, page2]) {
    assert.deepEqual(p.dialogs, []);
    assert.deepEqual(p.errors(), []);
  }
});

test('malformed lessons: errors with their line and the offending line; the text is kept and can be fixed', async () => {
  const page = await strictPage();
  await openAuthoring(page);
  // A syntax error on line 4 (an unterminated string).
  const broken = lesson('my-lesson').replace('model = "replication"', 'model = "replication');
  await box(page).fill(broken);
  await page.getByRole('button', { name: 'Check and open' }).click();
  const errors = page.locator('.lesson-errors[role=alert]');
  await errors.waitFor();
  assert.equal(await errors.locator('li').getAttribute('data-line'), '4');
  assert.equal(await errors.getByRole('button', { name: 'Line 4' }).count(), 1);
  assert.match((await errors.locator('.excerpt .here').textContent()).trimEnd(), /→\s+4 \| model = "replication$/);
  assert.equal(await box(page).inputValue(), broken, 'the text is kept');
  assert.match(page.url(), /\/lessons\/open$/);
  // "Line 4" selects the line in the box.
  await errors.getByRole('button', { name: 'Line 4' }).click();
  const selected = await box(page).evaluate((t) => t.value.slice(t.selectionStart, t.selectionEnd));
  assert.equal(selected, 'model = "replication');
  await shot(page, 'authoring-syntax-error');

  // An unknown node: reported at its step's line, naming the node.
  const unknown = lesson('my-lesson', 'x', 'actions = [{ at = 20, action = "crash", node = "folower-1" }]\n');
  await box(page).fill(unknown);
  await page.getByRole('button', { name: 'Check and open' }).click();
  await errors.locator('.message', { hasText: 'folower-1' }).waitFor();
  const stepLine = unknown.split('\n').indexOf('[[step]]') + 1;
  assert.equal(await errors.locator('li').getAttribute('data-line'), String(stepLine));
  assert.match(await errors.locator('.excerpt .here').textContent(), /\[\[step\]\]/);
  assert.equal(await box(page).inputValue(), unknown);
  await shot(page, 'authoring-unknown-node');

  // A built-in lesson's id is refused at the id line.
  await box(page).fill('# mine\n' + lesson('quorums'));
  await page.getByRole('button', { name: 'Check and open' }).click();
  await errors.locator('.message', { hasText: 'built-in lesson' }).waitFor();
  assert.equal(await errors.locator('li').getAttribute('data-line'), '2');

  // Fixed: it opens.
  await box(page).fill(lesson('my-lesson'));
  await page.getByRole('button', { name: 'Check and open' }).click();
  await expectOpened(page, 'my-lesson');
  await openAuthoring(page);
  assert.match(await page.locator('.imported[data-lesson="my-lesson"]').textContent(), /typed or pasted here/);

  // The same id with another text: replacing asks first; Cancel keeps the old one.
  await box(page).fill(lesson('my-lesson', 'A changed narration.'));
  await page.getByRole('button', { name: 'Check and open' }).click();
  const replace = page.getByRole('group', { name: 'Replace the imported lesson?' });
  await replace.waitFor();
  await replace.getByRole('button', { name: 'Cancel' }).click();
  assert.match(page.url(), /\/lessons\/open$/);
  await page.getByRole('button', { name: 'Check and open' }).click();
  await replace.getByRole('button', { name: 'Replace and open' }).click();
  await expectOpened(page, 'my-lesson');
  assert.match(await page.locator('.narration-text').textContent(), /A changed narration\./);
  assert.deepEqual(page.dialogs, []);
  assert.deepEqual(page.errors(), []);
});

test('an address in ?url= is fetched and opened', async () => {
  const page = await strictPage();
  await page.goto(env.base + '/lessons/open?url=' + encodeURIComponent(EXAMPLE));
  await expectOpened(page, example.id);
  assert.deepEqual(page.dialogs, []);
  assert.deepEqual(page.errors(), []);
});

test('addresses on other sites are refused; a missing file is reported', async () => {
  const page = await strictPage();
  await openAuthoring(page);
  const url = page.getByLabel('Address of a lesson file on this site');
  await url.fill('https://example.com/lesson.toml');
  await page.getByRole('button', { name: 'Fetch and open' }).click();
  await page.locator('.import-box .status', { hasText: 'another site (https://example.com)' }).waitFor();
  await url.fill('/public/lessons/no-such-lesson.toml');
  await page.getByRole('button', { name: 'Fetch and open' }).click();
  await page.locator('.import-box .status', { hasText: /Could not fetch .*no-such-lesson\.toml: the server answered 404/ }).waitFor();
  await url.fill('/lessons/no-such-page');
  await page.getByRole('button', { name: 'Fetch and open' }).click();
  await page.locator('.import-box .status', { hasText: 'is a web page, not a lesson file' }).waitFor();
  assert.match(page.url(), /\/lessons\/open$/);
  assert.deepEqual(page.dialogs, []);
  // The browser itself logs the 404 of the missing file; nothing else.
  assert.deepEqual(page.errors().filter((e) => !/status of 404/.test(e)), []);
});

test('narration with <script> and <img onerror> is shown as text; nothing runs', async () => {
  const page = await strictPage();
  await openAuthoring(page);
  const evil = [
    'Before <script>window.__pwned = 1; alert("script")</script> after.',
    '',
    '<img src="x" onerror="window.__pwned = 2; alert(\'img\')">',
    '',
    '[a link](javascript:alert(3)) and <b onmouseover="alert(4)">bold?</b>',
  ].join('\n');
  await box(page).fill(lesson('xss-test', evil));
  await page.getByRole('button', { name: 'Check and open' }).click();
  await expectOpened(page, 'xss-test');
  const text = page.locator('.narration-text');
  await text.waitFor();
  assert.match(await text.textContent(), /<script>window\.__pwned = 1; alert\("script"\)<\/script>/);
  assert.match(await text.textContent(), /<img src="x" onerror=/);
  assert.equal(await text.locator('script, img, b, [onerror], [onmouseover]').count(), 0);
  assert.equal(await text.locator('a[href^="javascript:"]').count(), 0);
  await text.hover();
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await shot(page, 'authoring-script-as-text');
  // Still inert after a reload (from storage).
  await page.reload();
  await page.locator('.narration-text').waitFor();
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(page.dialogs, []);
  assert.deepEqual(page.errors(), []);
});

test('an imported lesson that no longer resolves is listed with its error, not deleted', async () => {
  const page = await strictPage();
  await openAuthoring(page);
  // As an upgrade might leave it: stored text that no longer validates.
  await page.evaluate(() => localStorage.setItem('distlab.lessons.v1', JSON.stringify([
    { id: 'old-lesson', title: 'An old lesson', origin: 'file old.toml', text: 'id = "old-lesson"\ntitle = "An old lesson"\nsummary = "x"\nmodel = "teleportation"\n[scenario]\n[[step]]\ntitle = "x"\ntext = "x"\n' },
  ])));
  await page.reload();
  const row = page.locator('.imported[data-lesson="old-lesson"]');
  await row.waitFor();
  assert.match(await row.textContent(), /No longer opens: line \d+: unknown model "teleportation"/);
  await page.goto(env.base + '/course');
  const c = page.locator('.course-lesson.broken[data-lesson="old-lesson"]');
  assert.match(await c.textContent(), /no longer opens/);
  await c.getByRole('link', { name: 'Fix it on the lessons page' }).click();
  await page.waitForURL(/\/lessons\/open\?edit=old-lesson$/);
  await page.locator('.lesson-errors').waitFor();
  assert.match(await box(page).inputValue(), /model = "teleportation"/);
  await page.goto(env.base + '/lesson/old-lesson?step=1');
  await page.getByRole('heading', { name: 'This imported lesson no longer opens' }).waitFor();
  assert.ok((await page.evaluate(() => localStorage.getItem('distlab.lessons.v1'))).includes('teleportation'), 'still stored');
  assert.deepEqual(page.dialogs, []);
  assert.deepEqual(page.errors(), []);
});
