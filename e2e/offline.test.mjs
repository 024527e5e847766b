// Offline (sw.js): after one visit the service worker has cached the app; with the
// network gone (the browser offline and the server closed) a reload and another lesson's
// deep link still open, with the diagram, and Next works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, stop, newPage, shot } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await stop(env); });

const diagram = (page) => page.getByRole('img', { name: /^Space-time diagram/ });

test('the server sends sw.js as JavaScript, with no-cache', async () => {
  const res = await fetch(env.base + '/sw.js');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/javascript/);
  assert.match(res.headers.get('cache-control'), /no-cache/);
  assert.match(await res.text(), /addEventListener\('fetch'/);
});

test('after the first visit, lessons open offline', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/replication-lag?step=2');
  await diagram(page).waitFor();
  // The worker installs (caching the app) and takes control; reload once if it has not.
  await page.evaluate(() => navigator.serviceWorker.ready);
  if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) {
    await page.reload();
    await diagram(page).waitFor();
  }
  await page.waitForFunction(() => !!navigator.serviceWorker.controller);
  const cached = await page.evaluate(async () => {
    const keys = (await caches.keys()).filter((k) => k.startsWith('distlab-'));
    const urls = [];
    for (const k of keys) for (const r of await (await caches.open(k)).keys()) urls.push(new URL(r.url).pathname);
    return { keys, urls };
  });
  assert.equal(cached.keys.length, 1, `one cache: ${cached.keys}`);
  for (const re of [/^\/index\.html$/, /_bg\.wasm$/, /^\/distlab-[^/]*\.js$/, /\.css$/, /^\/public\/favicon\.svg$/]) {
    assert.ok(cached.urls.some((u) => re.test(u)), `${re} is cached: ${cached.urls}`);
  }

  // The network goes away: the browser is offline and the server stops.
  await page.context().setOffline(true);
  env.server.closeAllConnections?.();
  await new Promise((r) => env.server.close(r));
  env.server = { close() {} };

  await page.reload();
  await diagram(page).waitFor();
  assert.match(await page.locator('.narration h2').textContent(), /\S/);

  // Another lesson's deep link, never visited: served from the cached app.
  await page.goto(env.base + '/lesson/leader-election?step=3');
  await diagram(page).waitFor();
  const title = await page.locator('.narration h2').textContent();
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.waitForURL(/leader-election\?step=4$/);
  await page.waitForFunction((t) => document.querySelector('.narration h2').textContent !== t, title);
  assert.equal(await page.locator('.narration h2').textContent(), 'A write is committed');
  await diagram(page).waitFor();
  await page.getByRole('button', { name: 'Step forward' }).click();
  await shot(page, 'offline-lesson');
  assert.deepEqual(page.errors(), []);
});
