// Presentation mode, themes and reduced motion in Chromium (src/present.rs, style/main.css
// "presentation mode, themes"): at 1280×720 the diagram fills the width with the step's
// narration as a caption under it and no side panels; the lecture keys (Space, ←/→,
// Page Up/Down, ?, Escape, the number keys' prepared failures); the dark theme, its
// contrast and its persistence; prefers-reduced-motion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suite, newPage, shot, stepOf } from './harness.mjs';

const env = suite();

const diagram = (page) => page.getByRole('img', { name: /^Space-time diagram/ });
const digest = (page) => diagram(page).getAttribute('data-trace-digest');
const dialog = (page) => page.getByRole('dialog', { name: 'Keyboard shortcuts' });

/** Turns presentation mode on with the global bar's button and checks the layout: the
 *  diagram across the width, the caption (title + narration) under it and on screen, no
 *  panels, nothing overlapping. */
async function present(page) {
  const button = page.getByRole('button', { name: 'Presentation mode' });
  if ((await button.getAttribute('aria-pressed')) !== 'true') await button.click();
  assert.equal(await button.getAttribute('aria-pressed'), 'true');
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains('presenting')));
  await diagram(page).waitFor();
  // Layout settles after the diagram re-measures its width.
  await page.waitForTimeout(300);
  const svg = await diagram(page).boundingBox();
  const spacetime = await page.locator('.spacetime').boundingBox();
  const title = await page.locator('.narration .step h2').boundingBox();
  const text = await page.locator('.narration .narration-text').boundingBox();
  assert.ok(spacetime.width >= 1200, `the diagram spans the width (${spacetime.width}px)`);
  assert.ok(svg.width >= 1000, `the plot is wide (${svg.width}px)`);
  assert.ok(title.y >= spacetime.y + spacetime.height - 1, 'the caption is under the diagram, not over it');
  assert.ok(title.y + title.height <= 720, `the caption's title is on screen (${title.y + title.height})`);
  assert.ok(text.y < 720, 'the narration starts on screen');
  assert.ok(await page.locator('.narration .step h2').evaluate((el) => parseFloat(getComputedStyle(el).fontSize)) >= 30);
  assert.ok(await page.locator('.narration .narration-text').evaluate((el) => parseFloat(getComputedStyle(el).fontSize)) >= 22);
  // Transport only: no panels, no zoom, no crash buttons; the diagram's labels are large.
  for (const hidden of ['.panels', '.lab-options', '.causality', '.step-nav', '.node-btn']) {
    for (const el of await page.locator(hidden).all()) assert.equal(await el.isVisible(), false, `${hidden} is hidden`);
  }
  assert.ok(await page.getByRole('button', { name: 'Step forward' }).isVisible());
  const labelSize = await page.evaluate(() => {
    const el = document.querySelector('svg.diagram .msg-label, svg.diagram .tick-label');
    return el ? parseFloat(getComputedStyle(el).fontSize) : 0;
  });
  assert.ok(labelSize >= 14, `diagram labels are large (${labelSize}px)`);
  // Row names do not overlap each other.
  const rows = await page.locator('.row-head').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => [r.top, r.bottom]));
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i][0] >= rows[i - 1][1] - 0.5, 'row heads do not overlap');
}

test('presentation mode on the replication lesson: caption under a full-width diagram; the keys work', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/replication-lag?step=6');
  await page.getByRole('heading', { name: /Bob refreshes/ }).waitFor();
  await present(page);
  await shot(page, 'present-replication');

  // Space plays and pauses; → and ← step.
  await page.getByRole('button', { name: 'Go to start' }).click();
  await page.locator('body').click({ position: { x: 5, y: 700 } });
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: 'Pause' }).waitFor();
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: 'Play' }).waitFor();
  const s0 = (await stepOf(page)).step;
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((s) => /step (\d+)/.exec(document.querySelector('.transport .status').textContent)[1] == s + 1, s0);
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction((s) => /step (\d+)/.exec(document.querySelector('.transport .status').textContent)[1] == s, s0);

  // Page Down / Page Up move between lesson steps (what presenter remotes send).
  await page.keyboard.press('PageDown');
  await page.waitForURL(/step=7$/);
  await page.keyboard.press('PageUp');
  await page.waitForURL(/step=6$/);
  await page.getByRole('heading', { name: /Bob refreshes/ }).waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains('presenting')), 'still presenting');

  // ? opens the shortcut list with focus in it; Escape closes it and focus comes back.
  await page.getByRole('button', { name: 'Step forward' }).focus();
  await page.keyboard.press('?');
  await dialog(page).waitFor();
  assert.ok(await page.evaluate(() => !!document.activeElement.closest('dialog[open]')), 'focus moved into the list');
  const list = await dialog(page).textContent();
  for (const k of ['Space', 'Page Down', 'Escape', '?']) assert.ok(list.includes(k), `the list names ${k}`);
  // The replication scenario's prepared failures, or a line saying it has none.
  assert.equal(await dialog(page).locator('.sc-failures, .sc-none').count(), 1);
  // While the list is open, keys stay in it: the lab does not move.
  const before = (await stepOf(page)).step;
  await page.keyboard.press('ArrowRight');
  assert.equal((await stepOf(page)).step, before);
  await shot(page, 'present-shortcuts');
  await page.keyboard.press('Escape');
  await dialog(page).waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Step forward', 'focus is back where it was');

  // f: full screen on and off (the whole document).
  await page.keyboard.press('f');
  await page.waitForFunction(() => document.fullscreenElement === document.documentElement);
  await page.keyboard.press('f');
  await page.waitForFunction(() => document.fullscreenElement === null);

  // p leaves presentation mode; the narration is beside the lab again.
  await page.keyboard.press('p');
  assert.equal(await page.getByRole('button', { name: 'Presentation mode' }).getAttribute('aria-pressed'), 'false');
  assert.ok(await page.locator('.panels').isVisible());
  assert.deepEqual(page.errors(), []);
});

test('presentation mode on the Raft lesson; a number key applies a prepared failure', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/leader-election?step=4');
  await page.getByRole('heading', { name: 'A write is committed' }).waitFor();
  await present(page);
  await shot(page, 'present-raft');

  // The list names the scenario's prepared failures, key 1 first.
  await page.keyboard.press('?');
  await dialog(page).waitFor();
  const failures = page.locator('dialog .sc-failures tbody tr');
  const n = await failures.count();
  assert.ok(n >= 1, 'the Raft scenario has prepared failures');
  const key = n >= 2 ? 2 : 1;
  const label = (await failures.nth(key - 1).locator('td').textContent()).trim();
  assert.ok(label.length > 3);
  await page.keyboard.press('Escape');
  await dialog(page).waitFor({ state: 'hidden' });

  const d0 = await digest(page);
  await page.keyboard.press(String(key));
  await page.waitForFunction((d) => document.querySelector('svg[data-trace-digest]').dataset.traceDigest !== d, d0);
  const toast = page.locator('.toast');
  await toast.waitFor();
  assert.equal((await toast.textContent()).trim(), `${key}: ${label}`);
  await shot(page, 'present-raft-failure');
  // The run now differs from the lesson's: the way back is offered.
  await page.getByRole('button', { name: 'Return to the lesson' }).click();
  await page.waitForFunction((d) => document.querySelector('svg[data-trace-digest]').dataset.traceDigest === d, d0);

  // Keys never fire while typing in a field: in the speed select, neither p nor a number.
  await page.getByRole('button', { name: 'Presentation mode' }).click();
  await page.getByRole('combobox', { name: 'Speed' }).focus();
  await page.keyboard.press('p');
  await page.keyboard.press(String(key));
  assert.equal(await page.getByRole('button', { name: 'Presentation mode' }).getAttribute('aria-pressed'), 'false');
  assert.equal(await digest(page), d0);
  assert.deepEqual(page.errors(), []);
});

test('the shortcut list says when a scenario has no prepared failures', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/');
  await page.getByRole('button', { name: 'Keyboard shortcuts' }).click();
  await dialog(page).waitFor();
  assert.match(await dialog(page).textContent(), /this page has no scenario/);
  await page.getByRole('button', { name: 'Close' }).click();
  await dialog(page).waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Keyboard shortcuts');
  assert.deepEqual(page.errors(), []);
});

/** WCAG contrast of every visible text on the page against its effective background
 *  (the first opaque background up the tree): the texts below `min` (4.5, or 3 for large
 *  text), as `text: ratio (fg on bg)`. Disabled controls are exempt. */
async function lowContrast(page) {
  return page.evaluate(() => {
    const rgb = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const blend = (top, under) => ({ r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a), b: top.b * top.a + under.b * (1 - top.a), a: 1 });
    const background = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const bg = rgb(getComputedStyle(e).backgroundColor);
        if (bg && bg.a > 0) { layers.push(bg); if (bg.a >= 1) break; }
      }
      let c = { r: 255, g: 255, b: 255, a: 1 };
      for (const l of layers.reverse()) c = blend(l, c);
      return c;
    };
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || seen.has(el) || !n.textContent.trim()) continue;
      seen.add(el);
      // Exempt: disabled controls, steps not yet reached, tooltips (not shown), the
      // topology's glyphs (white on their coloured circle, not on the page).
      if (el.closest('[disabled], [aria-disabled="true"], .future, .tip, noscript, title, option, .glyph')) continue;
      const cs = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      if (cs.visibility !== 'visible' || cs.display === 'none' || r.width === 0 || r.height === 0) continue;
      let opacity = 1;
      for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
      if (opacity < 0.5) continue; // deliberately dimmed (not-yet-run statements, overlay)
      const inSvg = el instanceof SVGElement;
      const fg0 = rgb(inSvg ? cs.fill : cs.color);
      if (!fg0) continue;
      const bg = inSvg ? background(el.ownerSVGElement || el) : background(el);
      const fg = blend({ ...fg0, a: fg0.a * opacity }, bg);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
      const min = large ? 3 : 4.5;
      if (ratio < min - 0.01) out.push(`${n.textContent.trim().slice(0, 40)}: ${ratio.toFixed(2)} (${cs.color} on rgb(${bg.r | 0},${bg.g | 0},${bg.b | 0}))`);
    }
    return out;
  });
}

test('dark theme: every text readable in both themes; the choice persists over a reload', async () => {
  const page = await newPage(env.browser);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(env.base + '/lesson/replication-lag?step=6');
  await page.getByRole('heading', { name: /Bob refreshes/ }).waitFor();
  const theme = page.getByRole('button', { name: 'Dark theme' });
  assert.equal(await theme.getAttribute('aria-pressed'), 'false');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
  await page.waitForTimeout(300);
  assert.deepEqual(await lowContrast(page), [], 'light theme contrast');

  await theme.click();
  assert.equal(await theme.getAttribute('aria-pressed'), 'true');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(bg, 'rgb(247, 247, 244)', 'the page is dark');
  // The diagram follows: its lifelines and labels take the theme's colours.
  const lifeline = await page.locator('svg.diagram .lifeline').first().evaluate((el) => getComputedStyle(el).stroke);
  assert.equal(lifeline, 'rgb(110, 121, 133)');
  await page.waitForTimeout(200);
  assert.deepEqual(await lowContrast(page), [], 'dark theme contrast');
  await shot(page, 'theme-dark-lesson');

  // Kept over a reload, and for other pages; with presentation mode too.
  await page.reload();
  await diagram(page).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.equal(await page.getByRole('button', { name: 'Dark theme' }).getAttribute('aria-pressed'), 'true');
  await present(page);
  assert.deepEqual(await lowContrast(page), [], 'dark presentation contrast');
  await shot(page, 'present-replication-dark');
  await page.goto(env.base + '/lesson/leader-election?step=5');
  await diagram(page).waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains('presenting')), 'presentation mode is remembered');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await page.waitForTimeout(300);
  await shot(page, 'present-raft-dark');
  // The other pages in the dark theme: home, the isolation lab, the history checker.
  await page.getByRole('button', { name: 'Presentation mode' }).click();
  for (const [url, name] of [['/', 'home'], ['/isolation/lost-update?level=rc&line=3', 'isolation'], ['/lesson/linearizability?step=4', 'history']]) {
    await page.goto(env.base + url);
    await page.waitForTimeout(600);
    assert.deepEqual(await lowContrast(page), [], `dark contrast on ${url}`);
    await shot(page, `theme-dark-${name}`);
  }
  assert.deepEqual(page.errors(), []);
});

test('the default theme follows prefers-color-scheme', async () => {
  const page = await newPage(env.browser);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(env.base + '/');
  await page.getByRole('heading', { name: 'Distlab' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.equal(await page.getByRole('button', { name: 'Dark theme' }).getAttribute('aria-pressed'), 'true');
  assert.deepEqual(page.errors(), []);
});

/** Presses → (as a key on the page) until a step moves the cursor's time by at least
 *  30 ms, sampling the status line's display time every frame for `ms` after each press:
 *  the time before that step, the times seen, and where it settled. */
async function stepAndWatch(page, ms = 900) {
  return page.evaluate(async (ms) => {
    const shownTime = () => Number(/^(\d+) ms/.exec(document.querySelector('.transport .status').textContent)[1]);
    let last = null;
    for (let i = 0; i < 40; i++) {
      const from = shownTime();
      window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
      const seen = [];
      const t0 = performance.now();
      while (performance.now() - t0 < ms) {
        await new Promise((r) => requestAnimationFrame(r));
        seen.push(shownTime());
      }
      last = { from, target: seen[seen.length - 1], seen };
      if (last.target - from >= 30) return last;
    }
    return last;
  }, ms);
}

test('reduced motion: a step lands at once; with motion it glides', async () => {
  const page = await newPage(env.browser);
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto(env.base + '/lesson/replication-lag?step=2');
  await diagram(page).waitFor();
  await page.getByRole('button', { name: 'Go to start' }).click();
  let r = await stepAndWatch(page);
  assert.ok(r.target - r.from >= 30, JSON.stringify(r));
  assert.equal(r.seen[0], r.target, `the display time is the cursor's right after the step: ${JSON.stringify(r)}`);
  assert.ok(r.seen.every((t) => t === r.target), 'no intermediate times');

  await page.emulateMedia({ reducedMotion: 'no-preference' });
  await page.getByRole('button', { name: 'Go to start' }).click();
  r = await stepAndWatch(page);
  assert.ok(r.target - r.from >= 30, JSON.stringify(r));
  assert.ok(r.seen.some((t) => t > r.from && t < r.target), `intermediate times while animating: ${JSON.stringify(r)}`);
  assert.equal(r.seen[r.seen.length - 1], r.target, 'and it arrives');
  assert.deepEqual(page.errors(), []);
});
