// The causality overlay on the replication lesson's diagram: Lamport timestamps and vector
// clocks beside the marks, a selected event's causal past / future / concurrent events, and
// the relation of two events in words. The expectations are computed here, independently,
// from what the page draws: marks per lifeline in step order, and delivered arrows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, stop, newPage, shot } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await stop(env); });

const diagram = (page) => page.getByRole('img', { name: /^Space-time diagram/ });
const mark = (page, step) => page.locator(`g.event[data-step="${step}"]`);

/** Happens-before and both clocks from the DOM alone (runs in the page). */
function causalityFromDom() {
  const order = [...document.querySelectorAll('.row-head .node-name')].map((e) => e.textContent);
  const events = [...document.querySelectorAll('svg.diagram g.event[data-node]')]
    .filter((e) => !['drop', 'ignored'].includes(e.dataset.kind))
    .map((e) => ({ step: Number(e.dataset.step), node: e.dataset.node }))
    .sort((a, b) => a.step - b.step);
  const messages = [...document.querySelectorAll('svg.diagram g.message[data-received-step]')]
    .map((e) => ({ from: Number(e.dataset.sentStep), to: Number(e.dataset.receivedStep), id: e.dataset.id }));
  const succ = new Map(events.map((e) => [e.step, []]));
  const pred = new Map(events.map((e) => [e.step, []]));
  const link = (a, b) => { succ.get(a).push(b); pred.get(b).push(a); };
  const last = new Map();
  for (const e of events) {
    if (last.has(e.node)) link(last.get(e.node), e.step);
    last.set(e.node, e.step);
  }
  for (const m of messages) link(m.from, m.to);
  const lamport = {}, vector = {};
  for (const e of events) {
    let l = 0, v = order.map(() => 0);
    for (const p of pred.get(e.step)) {
      l = Math.max(l, lamport[p]);
      v = v.map((x, i) => Math.max(x, vector[p][i]));
    }
    lamport[e.step] = l + 1;
    v[order.indexOf(e.node)] += 1;
    vector[e.step] = v;
  }
  const reach = (s, next) => {
    const seen = new Set(), todo = [...next.get(s)];
    while (todo.length) { const x = todo.pop(); if (!seen.has(x)) { seen.add(x); todo.push(...next.get(x)); } }
    return [...seen];
  };
  const roles = {};
  for (const e of events) {
    const fut = new Set(reach(e.step, succ)), past = new Set(reach(e.step, pred));
    roles[e.step] = Object.fromEntries(events.map((x) => [x.step,
      x.step === e.step ? 'selected' : past.has(x.step) ? 'past' : fut.has(x.step) ? 'future' : 'concurrent']));
  }
  return { order, steps: events.map((e) => e.step), messages, lamport, vector: Object.fromEntries(Object.entries(vector).map(([k, v]) => [k, `[${v.join(',')}]`])), roles };
}

const attrs = (page, selector, names) => page.$$eval(selector, (els, names) =>
  els.map((e) => Object.fromEntries(names.map((n) => [n, e.getAttribute(n)]))), names);

test('causality overlay: clocks beside events, causal past / future / concurrent, two events compared', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/replication-lag?step=6');
  await diagram(page).waitFor();
  await page.getByRole('button', { name: 'Go to end' }).click();
  const model = await page.evaluate(causalityFromDom);
  assert.ok(model.steps.length >= 15, 'the run has events');

  // The equaliser: the scorekeeper invokes the write, the leader receives it.
  const write = page.locator('g.message[data-kind="write"][data-from="scorekeeper"][data-to="leader"]').first();
  const invoke = Number(await write.getAttribute('data-sent-step'));
  const delivery = Number(await write.getAttribute('data-received-step'));
  assert.equal(await mark(page, invoke).getAttribute('data-kind'), 'invoke');
  assert.equal(await mark(page, delivery).getAttribute('data-node'), 'leader');

  // Both toggles (off by default) write the clocks beside every event.
  const lamportBtn = page.getByRole('button', { name: 'Show Lamport timestamps' });
  const vectorBtn = page.getByRole('button', { name: 'Show vector clocks' });
  assert.equal(await lamportBtn.getAttribute('aria-pressed'), 'false');
  assert.equal(await vectorBtn.getAttribute('aria-pressed'), 'false');
  assert.equal(await page.locator('svg.diagram text.clock').count(), 0);
  await lamportBtn.click();
  await vectorBtn.click();
  assert.equal(await lamportBtn.getAttribute('aria-pressed'), 'true');
  assert.equal(await vectorBtn.getAttribute('aria-pressed'), 'true');
  const label = page.locator(`svg.diagram text.clock[data-step="${delivery}"]`);
  await label.waitFor();
  // Known values: the invocation is the scorekeeper's first event (Lamport 1), the leader's
  // receipt of it its first (Lamport 2); its vector clock counts one event of each.
  assert.equal(await label.locator('.lamport').textContent(), '2');
  const want = model.order.map((n) => (n === 'leader' || n === 'scorekeeper' ? 1 : 0));
  assert.equal(await label.locator('.vc').textContent(), `[${want.join(',')}]`);
  // Every event's clocks equal the ones computed here from the drawing.
  const clocks = await page.$$eval('svg.diagram text.clock', (els) => els.map((e) => ({
    step: e.dataset.step, l: e.querySelector('.lamport')?.textContent, v: e.querySelector('.vc')?.textContent })));
  assert.equal(clocks.length, model.steps.length);
  for (const c of clocks) {
    assert.equal(Number(c.l), model.lamport[c.step], `Lamport timestamp at step ${c.step}`);
    assert.equal(c.v, model.vector[c.step], `vector clock at step ${c.step}`);
  }
  assert.match(await page.locator('.clock-key').textContent(), /vector clock, one entry per row in order \(leader, follower-1/);

  // Selecting the leader's receipt: the write's invocation is in its past.
  assert.equal(await page.locator('svg.diagram.causal-on').count(), 0);
  await mark(page, delivery).click();
  assert.equal(await mark(page, delivery).getAttribute('aria-pressed'), 'true');
  assert.equal(await mark(page, delivery).getAttribute('data-causal'), 'selected');
  assert.equal(await mark(page, invoke).getAttribute('data-causal'), 'past');
  assert.equal(await page.locator('svg.diagram.causal-on').count(), 1);
  // Every event's role is the one computed here; all three kinds occur.
  const roles = await attrs(page, 'svg.diagram g.event[data-node]', ['data-step', 'data-causal', 'data-kind']);
  const seen = new Set();
  for (const r of roles) {
    if (r['data-kind'] === 'drop') { assert.equal(r['data-causal'], null); continue; }
    assert.equal(r['data-causal'], model.roles[delivery][r['data-step']], `role of step ${r['data-step']}`);
    seen.add(r['data-causal']);
  }
  assert.deepEqual([...seen].sort(), ['concurrent', 'future', 'past', 'selected']);
  // Arrows: emphasised when both ends are in the past (or the selection), or both in the future.
  const role = model.roles[delivery];
  const arrows = await attrs(page, 'svg.diagram g.message[data-received-step]', ['data-sent-step', 'data-received-step', 'data-causal']);
  for (const a of arrows) {
    const [s, r] = [role[a['data-sent-step']], role[a['data-received-step']]];
    const want = ['past', 'selected'].includes(s) && ['past', 'selected'].includes(r) ? 'past'
      : ['future', 'selected'].includes(s) && r === 'future' ? 'future' : null;
    assert.equal(a['data-causal'], want, `arrow ${a['data-sent-step']} → ${a['data-received-step']}`);
  }
  assert.equal(await write.getAttribute('data-causal'), 'past');
  const legend = page.getByRole('list', { name: 'Legend' });
  assert.match(await legend.textContent(), /selected \(e\).*past: happened before e.*future: happens after e.*concurrent with e/s);
  const panel = page.locator('.causal-text[aria-live="polite"]');
  assert.match(await panel.textContent(), /e = “leader ← scorekeeper: write score=3–3 live”/);
  await shot(page, 'causality-selected');

  // Shift+click a second event: Alice's read, which nothing connects to the leader's receipt.
  const aliceRead = Number(await page.locator('g.event[data-node="alice"][data-kind="invoke"]').first().getAttribute('data-step'));
  assert.equal(role[aliceRead], 'concurrent');
  await mark(page, aliceRead).click({ modifiers: ['Shift'] });
  assert.equal(await mark(page, aliceRead).getAttribute('data-compare'), 'true');
  assert.equal(await mark(page, aliceRead).getAttribute('aria-pressed'), 'true');
  assert.equal(await mark(page, delivery).getAttribute('data-causal'), 'selected', 'e stays selected');
  const relation = panel.locator('.relation');
  assert.equal(await relation.getAttribute('data-relation'), 'concurrent');
  assert.match(await relation.textContent(), /^e ∥ f .*∥.*concurrent — no chain of messages/);
  // Bob's stale read returns after the equaliser reached Sydney: e → f, with the chain.
  const bobReturn = Number(await page.locator('g.event.stale[data-node="bob"]').getAttribute('data-step'));
  assert.equal(role[bobReturn], 'future');
  await mark(page, bobReturn).click({ modifiers: ['Shift'] });
  assert.equal(await mark(page, aliceRead).getAttribute('data-compare'), null);
  assert.equal(await relation.getAttribute('data-relation'), 'before');
  assert.match(await relation.textContent(), /^e → f .*a chain of messages leads from one to the other: leader sends at .*follower-2 receives at/);
  await shot(page, 'causality-compared');

  // Keyboard: Enter on a focused mark selects it (and ends the comparison), Space on the
  // selected one clears it without starting playback; Escape clears.
  await mark(page, invoke).focus();
  await page.keyboard.press('Enter');
  assert.equal(await mark(page, invoke).getAttribute('data-causal'), 'selected');
  assert.equal(await mark(page, delivery).getAttribute('data-causal'), 'future');
  assert.equal(await page.locator('svg.diagram [data-compare]').count(), 0);
  assert.equal(await page.locator('svg.diagram text.badge').count(), 1, 'one badge: e');
  // Shift+Enter on another compares.
  await mark(page, delivery).focus();
  await page.keyboard.press('Shift+Enter');
  assert.equal(await mark(page, delivery).getAttribute('data-compare'), 'true');
  assert.equal(await relation.getAttribute('data-relation'), 'before');
  assert.equal(await page.locator('svg.diagram text.badge').count(), 2, 'two badges: e and f');
  await mark(page, invoke).focus();
  await page.keyboard.press(' ');
  assert.equal(await page.locator('svg.diagram [data-causal]').count(), 0, 'Space on e again deselects');
  assert.equal(await page.getByRole('button', { name: 'Play' }).count(), 1, 'Space on a mark does not play');
  await page.keyboard.press('Enter');
  assert.equal(await mark(page, invoke).getAttribute('data-causal'), 'selected');
  // The Compare toggle makes a plain click pick B.
  await mark(page, delivery).click();
  const compare = page.getByRole('button', { name: 'Compare two events' });
  await compare.click();
  assert.equal(await compare.getAttribute('aria-pressed'), 'true');
  await mark(page, invoke).click();
  assert.equal(await mark(page, delivery).getAttribute('data-causal'), 'selected');
  assert.equal(await mark(page, invoke).getAttribute('data-compare'), 'true');
  await compare.click();
  assert.equal(await relation.getAttribute('data-relation'), 'after');
  assert.match(await relation.textContent(), /^f → e /);
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('svg.diagram [data-causal]').count(), 0);
  assert.equal(await page.locator('svg.diagram [aria-pressed="true"]').count(), 0);
  assert.equal(await page.locator('svg.diagram.causal-on').count(), 0);
  assert.match(await panel.textContent(), /Select an event/);

  // Clock labels follow playback like the marks: none shown before the first event.
  await page.keyboard.press('Home');
  assert.equal(await page.locator('svg.diagram text.clock:not(.future)').count(), 0);
  await page.getByRole('button', { name: 'Go to end' }).click();
  assert.equal(await page.locator('svg.diagram text.clock:not(.future)').count(), model.steps.length);
  assert.deepEqual(page.errors(), []);
});

test('a selection survives an intervention after it, with the roles of the new run', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.base + '/lesson/replication-lag?step=6');
  await diagram(page).waitFor();
  await page.getByRole('button', { name: 'Go to end' }).click();
  const alice = page.locator('g.event[data-kind="invoke"][data-node="alice"]').first();
  const step = await alice.getAttribute('data-step');
  await alice.click();
  assert.equal(await alice.getAttribute('data-causal'), 'selected');
  // Crash follower-2 at the end of the run: the earlier events are the same, so e stays selected.
  await page.getByRole('button', { name: 'Crash follower-2' }).first().click();
  await page.getByRole('button', { name: 'Go to end' }).click();
  const crash = page.locator('g.event[data-kind="crash"][data-node="follower-2"]');
  await crash.waitFor();
  assert.equal(await page.locator('g.event[data-causal="selected"]').getAttribute('data-step'), step);
  const model = await page.evaluate(causalityFromDom);
  assert.equal(await crash.getAttribute('data-causal'), model.roles[step][await crash.getAttribute('data-step')]);
  assert.deepEqual(page.errors(), []);
});
