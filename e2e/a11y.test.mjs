// Accessibility in Chromium: axe-core (node_modules/axe-core) on the app's main pages with
// no violation of impact "serious" or "critical"; the keyboard reaching Next and the
// transport buttons with a visible focus ring; and phone-sized reading (390×844): lessons
// readable and steppable, narration before the diagram, the diagram scrolling inside its
// box, and no page-wide horizontal overflow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { suite, newPage, shot } from './harness.mjs';

const AXE = path.resolve('node_modules/axe-core/axe.min.js');

const env = suite();

/** Pages to check: where, and what shows that the page is ready. */
const PAGES = [
  { name: 'home', url: '/', ready: 'h1' },
  { name: 'course', url: '/course', ready: '.course-lesson' },
  { name: 'replication lesson', url: '/lesson/replication-lag?step=6', ready: 'svg.diagram' },
  { name: 'raft lesson', url: '/lesson/leader-election?step=2', ready: 'svg.diagram' },
  { name: 'quorum lesson', url: '/lesson/quorums?step=2', ready: 'svg.diagram' },
  { name: 'two-phase commit lesson', url: '/lesson/two-phase-commit?step=4', ready: 'svg.diagram' },
  { name: 'failure detectors lesson', url: '/lesson/failure-detectors?step=4', ready: 'svg.diagram' },
  { name: 'gossip lesson (64 nodes)', url: '/lesson/gossip?step=2', ready: '.gossip-chart' },
  { name: 'isolation lab', url: '/isolation/write-skew?level=rc&line=3', ready: 'h1' },
  { name: 'check', url: '/check', ready: 'h1' },
  { name: 'lessons/open', url: '/lessons/open', ready: 'h1' },
];

/** Runs axe on the page; returns the serious and critical violations. */
async function axe(page) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      targets: v.nodes.slice(0, 8).map((n) => `${n.target.join(' ')} — ${n.failureSummary.split('\n').slice(1, 2).join('')}`),
      count: v.nodes.length,
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

for (const p of PAGES) {
  test(`axe: no serious or critical violations on ${p.name}`, async () => {
    const page = await newPage(env.browser, { width: 1280, height: 800 });
    await page.goto(env.base + p.url);
    await page.locator(p.ready).first().waitFor();
    await page.waitForTimeout(300);
    const bad = await axe(page);
    const report = bad.map((v) => `${v.impact} ${v.id} (${v.count}): ${v.help}\n    ${v.targets.join('\n    ')}`).join('\n');
    assert.equal(bad.length, 0, `${p.url}:\n${report}`);
    assert.deepEqual(page.errors(), []);
  });
}

test('axe: the events-as-text list and the authoring errors pass too', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 800 });
  await page.goto(env.base + '/lesson/replication-lag?step=6');
  await page.locator('svg.diagram').waitFor();
  await page.locator('details.events-text summary').click();
  await page.locator('details.events-text li').first().waitFor();
  let bad = await axe(page);
  assert.equal(bad.length, 0, JSON.stringify(bad, null, 2));
  await page.goto(env.base + '/lessons/open');
  await page.getByRole('textbox', { name: 'Lesson file (TOML)' }).fill('id = "x\n');
  await page.getByRole('button', { name: 'Check and open' }).click();
  await page.locator('.lesson-errors').waitFor();
  bad = await axe(page);
  assert.equal(bad.length, 0, JSON.stringify(bad, null, 2));
});

/** Presses Tab until `pred(el)` holds for the focused element (at most `max` times). */
async function tabTo(page, pred, max = 150) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(pred)) return true;
  }
  return false;
}

/** The focused element's outline as computed (the :focus-visible ring). */
const ring = (page) => page.evaluate(() => {
  const s = getComputedStyle(document.activeElement);
  return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor, label: document.activeElement.getAttribute('aria-label') || document.activeElement.textContent.trim() };
});

/** Relative luminance contrast between two CSS rgb() colours. */
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

test('keyboard: Tab reaches Next and the transport buttons, each with a visible focus ring', async () => {
  const page = await newPage(env.browser, { width: 1280, height: 800 });
  await page.goto(env.base + '/lesson/replication-lag?step=2');
  await page.locator('svg.diagram').waitFor();
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const want = ['Next', 'Play', 'Step forward', 'Step back', 'Go to start', 'Go to end'];
  const seen = new Set();
  await page.locator('body').focus();
  for (let i = 0; i < 150 && seen.size < want.length; i++) {
    await page.keyboard.press('Tab');
    const r = await ring(page);
    if (want.includes(r.label) && !seen.has(r.label)) {
      seen.add(r.label);
      assert.notEqual(r.style, 'none', `${r.label} has a focus outline`);
      assert.ok(r.width >= 2, `${r.label}: outline ${r.width}px`);
      assert.ok(contrast(r.color, bg) >= 3, `${r.label}: ring ${r.color} on ${bg} has contrast ${contrast(r.color, bg).toFixed(2)}`);
      if (r.label === 'Next') await shot(page, 'keyboard-focus-next');
    }
  }
  assert.deepEqual([...seen].sort(), [...want].sort(), 'every control reached by Tab');
  // Enter on the focused Next moves on.
  await page.goto(env.base + '/lesson/replication-lag?step=2');
  await page.locator('svg.diagram').waitFor();
  assert.ok(await tabTo(page, () => document.activeElement.getAttribute('aria-label') === 'Next'));
  await page.keyboard.press('Enter');
  await page.waitForURL(/step=3$/);
  // The file picker on /lessons/open is reachable and its label shows the ring.
  await page.goto(env.base + '/lessons/open');
  await page.locator('h1').waitFor();
  assert.ok(await tabTo(page, () => document.activeElement.type === 'file'));
  const outline = await page.locator('.import-controls label.button').evaluate((l) => getComputedStyle(l).outlineStyle);
  assert.notEqual(outline, 'none', 'the file picker label shows focus');
  assert.deepEqual(page.errors(), []);
});

/** Whether the page scrolls sideways (it must not on a phone). */
const overflow = (page) => page.evaluate(() => ({
  scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth,
  culprits: [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1
    && !e.closest('.plot, .excerpt, .events-text ol, [style*="overflow"]')).slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`),
}));

const PHONE = { width: 390, height: 844 };

test('phone: a lesson reads narration then diagram, steps with Next/Back, never scrolls sideways', async () => {
  const page = await newPage(env.browser, PHONE);
  await page.goto(env.base + '/lesson/replication-lag?step=6');
  const svg = page.locator('svg.diagram');
  await svg.waitFor();
  await page.waitForTimeout(300);
  let o = await overflow(page);
  assert.ok(o.scrollWidth <= o.innerWidth, `page overflows: ${JSON.stringify(o)}`);
  const narr = await page.locator('.narration').boundingBox();
  const diag = await page.locator('.spacetime').boundingBox();
  assert.ok(narr.y < diag.y, 'the narration comes first');
  assert.ok(diag.x >= 0 && diag.x + diag.width <= PHONE.width + 1, 'the diagram fits the screen');
  const plot = await page.locator('.spacetime .plot').evaluate((p) => ({ overflowX: getComputedStyle(p).overflowX, sw: p.scrollWidth, cw: p.clientWidth }));
  assert.equal(plot.overflowX, 'auto', 'the diagram scrolls inside its box');
  await shot(page, 'phone-lesson-narration');
  await page.locator('.spacetime').scrollIntoViewIfNeeded();
  await shot(page, 'phone-lesson-diagram');
  // Next and Back are reachable and work.
  const next = page.getByRole('button', { name: 'Next', exact: true });
  await next.scrollIntoViewIfNeeded();
  assert.ok(await next.isVisible());
  await next.click();
  await page.waitForURL(/step=7$/);
  const back = page.getByRole('button', { name: 'Back', exact: true });
  await back.click();
  await page.waitForURL(/step=6$/);
  o = await overflow(page);
  assert.ok(o.scrollWidth <= o.innerWidth, `page overflows: ${JSON.stringify(o)}`);
  assert.deepEqual(page.errors(), []);
});

for (const [name, url, ready] of [
  ['home', '/', 'h1'],
  ['course', '/course', '.course-lesson'],
  ['raft lesson', '/lesson/leader-election?step=2', 'svg.diagram'],
  ['quorum lesson', '/lesson/quorums?step=2', 'svg.diagram'],
  ['paxos lesson', '/lesson/paxos?step=3', 'svg.diagram'],
  ['two-phase commit lesson', '/lesson/two-phase-commit?step=4', 'svg.diagram'],
  ['failure detectors lesson', '/lesson/failure-detectors?step=4', 'svg.diagram'],
  ['gossip lesson', '/lesson/gossip?step=1', 'svg.diagram'],
  ['clocks lesson', '/lesson/logical-clocks?step=3', 'svg.diagram'],
  ['version vectors lesson', '/lesson/version-vectors?step=4', 'svg.diagram'],
  ['isolation lesson', '/lesson/isolation-levels?step=2', '.narration h2'],
  ['lessons/open', '/lessons/open', 'h1'],
]) {
  test(`phone: ${name} does not scroll sideways`, async () => {
    const page = await newPage(env.browser, PHONE);
    await page.goto(env.base + url);
    await page.locator(ready).first().waitFor();
    await page.waitForTimeout(300);
    const o = await overflow(page);
    await shot(page, `phone-${name.replace(/[^a-z]+/g, '-')}`);
    assert.ok(o.scrollWidth <= o.innerWidth, `${url} overflows: ${JSON.stringify(o)}`);
    assert.deepEqual(page.errors(), []);
  });
}
