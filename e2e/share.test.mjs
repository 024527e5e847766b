// Shareable runs in Chromium: a link copied after an intervention opens the identical run
// (trace digest and step) in a fresh browser context, for the replication, Raft and quorum
// lessons and the isolation lab; the diagram exported as SVG (well-formed, the same
// arrows as on the page) and PNG; the run as JSON re-imported through /saved; malformed
// links reported while the lesson still works; saved runs kept across reloads, renamed,
// deleted (with undo), backed up, and bad import files refused without changing anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite, newPage, shot, stepOf } from './harness.mjs';

const env = suite();

const diagram = (page) => page.locator('svg.diagram');
const digestOf = (page) => diagram(page).getAttribute('data-trace-digest');
const alerts = (page) => page.locator('[role=alert]');

/** Presses "Copy link" and returns the link from the read-only field. */
async function copyLink(page) {
  await page.getByRole('toolbar', { name: 'Share this run' }).getByRole('button', { name: 'Copy link' }).click();
  const field = page.getByRole('textbox', { name: 'Link to this run' });
  await field.waitFor();
  const link = await field.inputValue();
  assert.match(link, /[?&]run=1\.[A-Za-z0-9_-]+$/);
  return link;
}

/** Opens `link` in a fresh browser context and waits for its diagram to show `digest`. */
async function openFresh(link, digest) {
  const page = await newPage(env.browser);
  await page.goto(link);
  await diagram(page).waitFor();
  await page.waitForFunction((d) => document.querySelector('svg.diagram')?.getAttribute('data-trace-digest') === d, digest, { timeout: 10000 })
    .catch(() => {});
  return page;
}

/** Opens the Export menu and returns the download started by `name`. */
async function exportAs(page, name) {
  const toggle = page.getByRole('button', { name: 'Export', exact: true });
  if (await toggle.getAttribute('aria-expanded') !== 'true') await toggle.click();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name, exact: true }).click(),
  ]);
  return download;
}

const readDownload = async (d) => fs.readFileSync(await d.path());

test('a copied link opens the same run at the same step in a fresh browser (replication lesson)', async () => {
  const page = await newPage(env.browser);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.base });
  await page.goto(env.base + '/lesson/replication-lag?step=1');
  await diagram(page).waitFor();
  for (let i = 0; i < 2; i++) await page.getByRole('button', { name: 'Step forward' }).click();
  await page.getByRole('button', { name: 'Crash follower-2' }).first().click();
  await page.getByRole('button', { name: 'Restart follower-2' }).first().waitFor();
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Step forward' }).click();
  await page.getByRole('combobox', { name: 'Zoom' }).selectOption({ label: '2×' });
  const digest = await digestOf(page);
  const step = await stepOf(page);
  const link = await copyLink(page);
  assert.ok(link.startsWith(env.base + '/lesson/replication-lag?step=1&run='), link);
  await page.getByRole('status').filter({ hasText: 'Link copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
  await shot(page, 'share-bar-replication');

  const fresh = await openFresh(link, digest);
  assert.equal(await digestOf(fresh), digest, 'the same trace');
  assert.equal((await stepOf(fresh)).step, step.step, 'the same step');
  assert.equal((await stepOf(fresh)).of, step.of);
  assert.equal(await fresh.getByRole('combobox', { name: 'Zoom' }).inputValue(), '2');
  assert.ok(await fresh.locator('.experimenting').isVisible(), 'the run is not the step\'s own');
  assert.equal(await fresh.getByRole('heading', { name: 'Three replicas, three cities' }).count(), 1, 'the step\'s narration shows');
  assert.equal(await alerts(fresh).count(), 0);
  await shot(fresh, 'share-opened-replication');
  // Back to the step's own run, and Next still moves.
  await fresh.getByRole('button', { name: 'Return to the lesson' }).click();
  assert.notEqual(await digestOf(fresh), digest);
  await fresh.getByRole('button', { name: 'Next' }).click();
  await fresh.waitForURL(/step=2$/);
  assert.deepEqual(page.errors(), []);
  assert.deepEqual(fresh.errors(), []);
  await page.close();
  await fresh.close();
});

test('Raft and quorum lessons: the shared run is the same run', async () => {
  const page = await newPage(env.browser, { width: 1440, height: 900 });
  await page.goto(env.base + '/lesson/leader-election?step=3');
  await page.getByRole('heading', { name: 'Heartbeats' }).waitFor();
  await page.getByRole('button', { name: 'Crash s3' }).click();
  await page.getByText('You are experimenting').waitFor();
  for (let i = 0; i < 12; i++) await page.getByRole('button', { name: 'Step forward' }).click();
  const digest = await digestOf(page);
  const step = await stepOf(page);
  const link = await copyLink(page);
  assert.match(link, /\/lesson\/leader-election\?step=3&run=/);
  await page.getByRole('button', { name: 'QR code' }).click();
  const qr = page.getByRole('img', { name: 'QR code of the link to this run' });
  await qr.waitFor();
  const box = await qr.boundingBox();
  assert.ok(box.width >= 500 && box.height >= 500, `a QR code big enough for a projector (${box.width}×${box.height})`);
  await shot(page, 'share-qr-1440');
  await page.keyboard.press('Escape');
  assert.equal(await qr.count(), 0);
  const fresh = await openFresh(link, digest);
  assert.equal(await digestOf(fresh), digest);
  assert.equal((await stepOf(fresh)).step, step.step);
  assert.equal(await fresh.locator('.raft-servers tr.server.down th').textContent(), 's3', 'the crash is in the run');
  await shot(fresh, 'share-opened-raft');

  await page.goto(env.base + '/lesson/quorums?step=7');
  await page.getByRole('heading', { name: /Your turn: a stale read/ }).waitFor();
  for (const n of ['r1', 'r3', 'c1']) await page.getByRole('checkbox', { name: `${n} on side A` }).check();
  await page.getByRole('button', { name: 'Partition: side A | the rest' }).click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  await page.locator('.challenge.met').waitFor();
  const qDigest = await digestOf(page);
  const qStep = await stepOf(page);
  const qLink = await copyLink(page);
  const q = await openFresh(qLink, qDigest);
  assert.equal(await digestOf(q), qDigest);
  assert.equal((await stepOf(q)).step, qStep.step);
  await q.locator('.challenge.met').waitFor();
  // Its client history exports as the checker's JSON.
  const h = JSON.parse(String(await readDownload(await exportAs(q, 'Client history as JSON'))));
  await shot(q, 'share-export-menu');
  assert.ok(Array.isArray(h.ops) && h.ops.length > 0, 'operations in the history');
  assert.ok(['ok', 'fail', 'info'].includes(h.ops[0].status));
  for (const p of [page, fresh, q]) {
    assert.deepEqual(p.errors(), []);
    await p.close();
  }
});

test('exports: the diagram as SVG and PNG, the run as JSON re-imported through /saved', async () => {
  const page = await newPage(env.browser);
  // Steps land at once (no gliding), so the page and the export show the same moment.
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto(env.base + '/lesson/replication-lag?step=1');
  await diagram(page).waitFor();
  await page.getByRole('button', { name: 'Crash follower-1' }).first().click();
  for (let i = 0; i < 6; i++) await page.getByRole('button', { name: 'Step forward' }).click();
  const digest = await digestOf(page);
  // The arrows drawn now (later ones are hidden until their step).
  const onPage = await page.evaluate(() => [...document.querySelectorAll('svg.diagram g.message')]
    .filter((g) => getComputedStyle(g).visibility !== 'hidden' && getComputedStyle(g).display !== 'none').length);
  assert.ok(onPage > 0);

  const svgDownload = await exportAs(page, 'Diagram as SVG');
  assert.equal(svgDownload.suggestedFilename(), 'distlab-replication-lag-step1.svg');
  const svgText = String(await readDownload(svgDownload));
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const root = doc.documentElement;
    return {
      error: doc.getElementsByTagName('parsererror').length > 0,
      root: root.localName,
      ns: root.namespaceURI,
      arrows: doc.querySelectorAll('g[class~="message"]').length,
      names: [...doc.querySelectorAll('text.node-name')].map((t) => t.textContent),
      width: Number(root.getAttribute('width')),
    };
  }, svgText);
  assert.equal(parsed.error, false, 'well-formed XML');
  assert.equal(parsed.root, 'svg');
  assert.equal(parsed.ns, 'http://www.w3.org/2000/svg');
  assert.equal(parsed.arrows, onPage, 'the same arrows as on the page');
  assert.deepEqual(parsed.names, await page.locator('.row-head .node-name').allTextContents(), 'the node names');
  assert.ok(parsed.width > 300);
  fs.writeFileSync(path.join('e2e/artifacts', 'share-export.svg'), svgText);

  const png = await readDownload(await exportAs(page, 'Diagram as PNG'));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG magic bytes');
  assert.ok(png.length > 2000, `a real image (${png.length} bytes)`);
  assert.equal(png.readUInt32BE(16), Math.ceil(parsed.width) * 2, 'drawn at 2×');
  fs.writeFileSync(path.join('e2e/artifacts', 'share-export.png'), png);

  const runDownload = await exportAs(page, 'Run as JSON');
  assert.equal(runDownload.suggestedFilename(), 'distlab-replication-lag-step1.run.json');
  const runFile = path.join(os.tmpdir(), `distlab-run-${process.pid}.json`);
  fs.writeFileSync(runFile, await readDownload(runDownload));
  const run = JSON.parse(fs.readFileSync(runFile, 'utf8'));
  assert.equal(run.model, 'replication');
  assert.equal(run.lesson, 'replication-lag');
  assert.equal(run.step, 1);

  const saved = await newPage(env.browser);
  await saved.goto(env.base + '/saved');
  await saved.getByRole('heading', { name: 'Saved runs' }).waitFor();
  await saved.getByLabel('Import from a file').setInputFiles(runFile);
  await saved.getByRole('status').filter({ hasText: /^Added “Replication lag, step 1, / }).waitFor();
  await saved.locator('.saved-run').first().getByRole('link', { name: /^Open / }).click();
  await diagram(saved).waitFor();
  await saved.waitForFunction((d) => document.querySelector('svg.diagram')?.getAttribute('data-trace-digest') === d, digest);
  assert.equal((await stepOf(saved)).step, (await stepOf(page)).step);
  fs.rmSync(runFile);
  assert.deepEqual(page.errors(), []);
  assert.deepEqual(saved.errors(), []);
  await page.close();
  await saved.close();
});

test('a malformed or foreign link says what is wrong, and the lesson still works', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/replication-lag?step=2');
  await diagram(page).waitFor();
  const own = await digestOf(page);
  const raftLink = await (async () => {
    const p = await newPage(env.browser);
    await p.goto(env.base + '/lesson/leader-election?step=1');
    await diagram(p).waitFor();
    const l = await copyLink(p);
    await p.close();
    return new URL(l).searchParams.get('run');
  })();
  const cases = [
    ['garbage', /does not start with a version number/],
    ['1.AAAA', /the run code is damaged/],
    ['9.xyz', /shared by a newer Distlab \(link format 9/],
    ['1.***', /the run code is damaged \(was the link cut short or changed\?\)/],
    [raftLink, /the run is a raft run, but this page shows replication runs/],
  ];
  for (const [code, why] of cases) {
    await page.goto(env.base + `/lesson/replication-lag?step=2&run=${encodeURIComponent(code)}`);
    const alert = alerts(page).filter({ hasText: "This link's run could not be opened" });
    await alert.waitFor();
    assert.match(await alert.textContent(), why);
    assert.match(await alert.textContent(), /Showing the step's own run instead\./);
    assert.equal(await digestOf(page), own, 'the step\'s own run');
  }
  await shot(page, 'share-bad-link');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.waitForURL(/step=3$/);
  await page.getByText('Step 3 of').waitFor();
  assert.equal(await alerts(page).filter({ hasText: "This link's run could not be opened" }).count(), 0);
  // The free lab too.
  await page.goto(env.base + '/lab/three-cities?run=garbage');
  await alerts(page).filter({ hasText: "Showing the lab's own run instead" }).waitFor();
  await diagram(page).waitFor();
  assert.deepEqual(page.errors(), []);
  await page.close();
});

test('saved runs: kept across reloads, renamed, deleted with undo, backed up; bad files change nothing', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/leader-election?step=2');
  await diagram(page).waitFor();
  await page.getByRole('button', { name: 'Crash s1' }).click();
  await page.getByRole('button', { name: 'Save run' }).click();
  await page.getByRole('status').filter({ hasText: /^Saved as “Leader election, step 2, / }).waitFor();
  await page.getByRole('button', { name: 'Step forward' }).click();
  await page.getByRole('button', { name: 'Save run' }).click();
  await page.getByRole('link', { name: 'Saved runs' }).click();
  await page.getByRole('heading', { name: 'Saved runs' }).waitFor();
  const items = page.locator('.saved-run');
  assert.equal(await items.count(), 2);
  await page.reload();
  await items.first().waitFor();
  assert.equal(await items.count(), 2, 'saved runs survive a reload');
  await shot(page, 'saved-runs');

  // Rename the first.
  const first = items.first();
  const oldName = await first.locator('.saved-name').textContent();
  await first.getByRole('button', { name: `Rename ${oldName}` }).click();
  const field = page.getByRole('textbox', { name: `New name for ${oldName}` });
  await field.fill('s1 crashed early');
  await field.press('Enter');
  await page.getByRole('link', { name: 's1 crashed early', exact: true }).waitFor();
  await page.reload();
  await page.getByRole('link', { name: 's1 crashed early', exact: true }).waitFor();

  // Delete the second, undo, delete again.
  const second = items.nth(1);
  const secondName = await second.locator('.saved-name').textContent();
  await page.getByRole('button', { name: `Delete ${secondName}` }).click();
  await page.getByRole('status').filter({ hasText: `Deleted “${secondName}”.` }).waitFor();
  assert.equal(await items.count(), 1);
  await page.getByRole('button', { name: 'Undo' }).click();
  assert.equal(await items.count(), 2);
  assert.equal(await items.nth(1).locator('.saved-name').textContent(), secondName, 'back in its place');
  await page.getByRole('button', { name: `Delete ${secondName}` }).click();
  await page.reload();
  await items.first().waitFor();
  assert.equal(await items.count(), 1);

  // Export all, then importing the backup again duplicates nothing.
  const backupDownload = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export all' }).click()]).then(([d]) => d);
  const backup = JSON.parse(String(await readDownload(backupDownload)));
  assert.equal(backup.distlab, 'backup');
  assert.equal(backup.version, 1);
  assert.equal(backup.runs.length, 1);
  assert.equal(backup.runs[0].name, 's1 crashed early');
  assert.ok(Array.isArray(backup.lessons));
  await page.getByLabel('Import from a file').setInputFiles({ name: 'backup.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(backup)) });
  await page.getByRole('status').filter({ hasText: 'Imported backup.json: 0 runs added, 1 already here.' }).waitFor();
  assert.equal(await items.count(), 1);

  // A bad file: its error with line and column; the list is unchanged.
  await page.getByLabel('Import from a file').setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{\n  "distlab": "backup",\n  "runs": [1,]\n}') });
  const bad = alerts(page).filter({ hasText: 'bad.json was not imported' });
  await bad.waitFor();
  assert.match(await bad.textContent(), /not valid JSON \(line 3, column \d+: /);
  assert.match(await bad.textContent(), /Nothing was changed\./);
  await page.getByLabel('Import from a file').setInputFiles({ name: 'other.json', mimeType: 'application/json', buffer: Buffer.from('{"hello": 1}') });
  await alerts(page).filter({ hasText: 'other.json was not imported: it is neither a Distlab backup' }).waitFor();
  assert.equal(await items.count(), 1);
  await shot(page, 'saved-bad-import');

  // Opening a saved run gives its run.
  await page.getByRole('link', { name: 'Open s1 crashed early' }).click();
  await diagram(page).waitFor();
  await page.getByRole('button', { name: 'Restart s1' }).waitFor();

  // Unreadable stored data is kept aside, not overwritten.
  await page.evaluate(() => localStorage.setItem('distlab.saved-runs.v1', '{oops'));
  await page.goto(env.base + '/saved');
  await alerts(page).filter({ hasText: 'could not be read' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('distlab.saved-runs.v1.unreadable')), '{oops');
  assert.equal(await page.evaluate(() => localStorage.getItem('distlab.saved-runs.v1')), '{oops', 'not overwritten by just looking');
  assert.deepEqual(page.errors(), []);
  await page.close();
});

test('isolation lab: an edited script, its level and line travel in the link', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/isolation/lost-update?level=rr&line=2');
  await page.getByRole('button', { name: 'Step forward' }).waitFor();
  await page.getByText('Edit the script').click();
  const script = page.locator('textarea[aria-label="Script"]');
  const edited = (await script.inputValue()) + '\n-- shared by the test';
  await script.fill(edited);
  await page.getByRole('button', { name: 'Run this script' }).click();
  await page.getByRole('button', { name: 'Step forward' }).click();
  await page.getByRole('button', { name: 'Step forward' }).click();
  const counted = await page.locator('.line-count').textContent();
  const link = await copyLink(page);
  assert.match(link, /\/isolation\/lost-update\?level=rr&line=2&run=/);
  const fresh = await newPage(env.browser);
  await fresh.goto(link);
  await fresh.getByRole('button', { name: 'Step forward' }).waitFor();
  assert.equal(await fresh.locator('.line-count').textContent(), counted);
  assert.equal(await fresh.locator('textarea[aria-label="Script"]').inputValue(), edited);
  assert.ok(await fresh.getByRole('radio', { name: 'Repeatable read' }).isChecked());
  await fresh.goto(env.base + '/isolation/lost-update?level=rr&line=2&run=1.AAAA');
  await alerts(fresh).filter({ hasText: "Showing the scenario's own script instead" }).waitFor();
  assert.deepEqual(page.errors(), []);
  assert.deepEqual(fresh.errors(), []);
  await page.close();
  await fresh.close();
});
