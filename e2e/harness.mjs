// Shared setup for browser tests: serve dist/ on a free port, launch Chromium, collect
// console errors, save screenshots to e2e/artifacts/.
import { before, after } from 'node:test';
import { serve } from './server.mjs';
import { launch } from './browser.mjs';
import fs from 'node:fs';
import path from 'node:path';

export const ARTIFACTS = path.resolve('e2e/artifacts');
fs.mkdirSync(ARTIFACTS, { recursive: true });

export async function start() {
  // DISTLAB_E2E_DIST: another build to test (e.g. a debug build in /tmp); default dist/.
  const dist = process.env.DISTLAB_E2E_DIST || 'dist';
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist}/ is missing: run \`trunk build --release --offline\` first`);
  const server = await serve(dist, 0);
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await launch();
  return { server, base, browser };
}

/**
 * Registers the file's before/after hooks and returns its environment, `{ base, browser }`
 * (filled in once the hooks run; `await env.ready` in a file's own before hook). With DISTLAB_E2E_BASE=http://127.0.0.1:PORT the tests run
 * against a server already serving a build; otherwise `start()` serves dist/ itself.
 */
export function suite() {
  let ready;
  // `env.ready` resolves once the server and browser are up (for a file's own before hook).
  const env = { ready: new Promise((r) => { ready = r; }) };
  before(async () => {
    Object.assign(env, process.env.DISTLAB_E2E_BASE
      ? { base: process.env.DISTLAB_E2E_BASE, browser: await launch() }
      : await start());
    ready();
  });
  after(async () => {
    if (env.server) await stop(env);
    else await env.browser.close();
  });
  return env;
}

export async function stop({ server, browser }) {
  await browser.close();
  server.close();
}

/** A page that records console errors and page errors; `errors()` returns them. */
export async function newPage(browser, viewport = { width: 1280, height: 720 }) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.errors = () => errors;
  return page;
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** The "step X of Y" numbers from the transport status. */
export async function stepOf(page) {
  const t = await page.locator('.transport .status').textContent();
  const m = t.match(/step (\d+) of (\d+)/);
  return { step: Number(m[1]), of: Number(m[2]), text: t };
}
