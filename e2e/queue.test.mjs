// Board, member and label changes go through the page's mutation queue like task and
// list changes: shown at once (marked pending), settled by their events, rolled back
// with the server's message when refused, kept while offline and sent once on reconnect.
// Each test gets a fresh server (in-memory, --demo).
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser;
let server;
const contexts = [];

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
});
after(async () => { await browser?.close(); });
beforeEach(async () => { server = await startServer(); });
afterEach(async () => {
  while (contexts.length) await contexts.pop().close();
  server.stop();
});

const live = page => page.locator('#status[data-state="live"]').waitFor();

/// A window with a demo user's token, on board-1 (alice owns it; bob is an editor).
async function demo(user) {
  const context = await browser.newContext({ viewport: { width: 1800, height: 700 } });
  contexts.push(context);
  await context.addInitScript(token => localStorage.setItem('boardcast.token', token), server.tokens[user]);
  const page = await context.newPage();
  page.on('pageerror', e => { throw e; });
  await page.goto(`${server.url}/#board-1`);
  await live(page);
  return page;
}

/// Holds the page's requests matching `method` and `pattern` until `release()` is called,
/// so what the page shows before the server answers can be checked.
async function hold(page, method, pattern) {
  let release;
  const gate = new Promise(ok => { release = ok; });
  let seen = 0;
  await page.route(pattern, async route => {
    if (route.request().method() !== method) { await route.continue(); return; }
    seen += 1;
    await gate;
    await route.continue();
  });
  return { release: () => release(), seen: () => seen };
}

async function rest(user, path) {
  const res = await fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${server.tokens[user]}` } });
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json();
}

const member = (page, username) => page.locator('#members-dialog .member', { hasText: `@${username}` });

test('an invitation of an unknown username shows at once, then rolls back with the server\'s message', async () => {
  const alice = await demo('alice');
  const before = (await rest('alice', '/boards/board-1/members')).members;
  const held = await hold(alice, 'POST', '**/boards/board-1/members');
  await alice.click('#members-button');
  const dialog = alice.locator('#members-dialog');
  await dialog.locator('.invite input').fill('nobody-here');
  await dialog.locator('.invite select').selectOption('viewer');
  await dialog.locator('.invite button').click();
  // Before the server answers: the invitation is on the list, marked pending.
  await member(alice, 'nobody-here').waitFor({ timeout: 1000 });
  assert.match(await member(alice, 'nobody-here').getAttribute('class'), /pending/);
  assert.equal(held.seen(), 1);

  held.release();
  await member(alice, 'nobody-here').waitFor({ state: 'detached', timeout: 5000 });
  const error = dialog.locator('.dialog-error');
  await error.waitFor({ state: 'visible' });
  const text = await error.textContent();
  assert.match(text, /Inviting @nobody-here was refused/);
  assert.match(text, /username/, `the server's message names the field: ${text}`);
  assert.match(await alice.locator('#message').textContent(), /Inviting @nobody-here was refused/);
  const { members } = await rest('alice', '/boards/board-1/members');
  assert.deepEqual(members, before, 'nothing was written');
  assert.deepEqual(await alice.evaluate(() => JSON.parse(localStorage.getItem('boardcast.queue.board-1'))), []);
});

test('a board renamed offline shows pending, is applied once on reconnect, and another window sees it', async () => {
  const alice = await demo('alice');
  const bob = await demo('bob');
  await alice.context().setOffline(true);
  await alice.locator('#status[data-state="offline"]').waitFor();
  assert.equal(await alice.locator('#new-board').isDisabled(), true, 'no new board while offline');
  assert.match(await alice.locator('#new-board').getAttribute('title'), /Offline/);

  await alice.click('#rename-board');
  const ask = alice.locator('dialog.ask');
  await ask.locator('[name="name"]').fill('Launch offline');
  await ask.locator('button', { hasText: 'Save' }).click();
  await alice.locator('#board-picker option', { hasText: 'Launch offline' }).waitFor({ state: 'attached', timeout: 1000 });
  assert.match(await alice.locator('#board-picker').getAttribute('class'), /pending/);
  const queued = await alice.evaluate(() => JSON.parse(localStorage.getItem('boardcast.queue.board-1')));
  assert.equal(queued.length, 1, 'the rename is kept while offline');
  assert.equal(queued[0].kind, 'board-update');
  await bob.waitForTimeout(300);
  assert.equal(await bob.locator('#board-picker option', { hasText: 'Launch offline' }).count(), 0);

  await alice.context().setOffline(false);
  await bob.locator('#board-picker option', { hasText: 'Launch offline' }).waitFor({ state: 'attached', timeout: 5000 });
  await alice.waitForFunction(() => !document.querySelector('#board-picker').classList.contains('pending'), null, { timeout: 5000 });
  assert.equal(await alice.locator('#new-board').isDisabled(), false);
  // Give any second send (the 3 s retry, the stream reopening) the time to happen.
  await alice.waitForTimeout(3500);
  const { entries } = await rest('alice', '/boards/board-1/activity');
  assert.equal(entries.filter(e => e.type === 'board_updated').length, 1, 'the rename was applied exactly once');
  assert.deepEqual(await alice.evaluate(() => JSON.parse(localStorage.getItem('boardcast.queue.board-1'))), []);
  assert.equal((await rest('bob', '/boards/board-1')).board.name, 'Launch offline');
});

test('a role change shows at once and another window sees it; demoting the last owner rolls back', async () => {
  const alice = await demo('alice');
  const bob = await demo('bob');
  assert.equal(await bob.locator('#readonly-note').isVisible(), false, 'bob starts as an editor');
  const held = await hold(alice, 'PATCH', '**/boards/board-1/members/bob');
  await alice.click('#members-button');
  await member(alice, 'bob').locator('select').selectOption('viewer');
  // Before the server answers: the new role, marked pending.
  await alice.waitForFunction(() => document.querySelector('#members-dialog .member.pending[data-user-id="bob"] select')?.value === 'viewer',
    null, { timeout: 1000 });
  held.release();
  await bob.locator('#readonly-note', { hasText: 'Viewer: read-only' }).waitFor({ timeout: 5000 });
  await alice.waitForFunction(() => !document.querySelector('#members-dialog .member.pending'), null, { timeout: 5000 });
  assert.equal(await member(alice, 'bob').locator('select').inputValue(), 'viewer');
  await bob.click('#members-button');
  await bob.locator('#members-dialog .member', { hasText: '@bob' }).locator('.role', { hasText: 'viewer' }).waitFor({ timeout: 2000 });

  // The last owner cannot demote herself: shown at once, then rolled back with the server's 409 message.
  await member(alice, 'alice').locator('select').selectOption('editor');
  const error = alice.locator('#members-dialog .dialog-error');
  await error.waitFor({ state: 'visible', timeout: 5000 });
  assert.match(await error.textContent(), /The role change was refused/);
  await alice.waitForFunction(() => document.querySelector('#members-dialog .member[data-user-id="alice"] select')?.value === 'owner',
    null, { timeout: 5000 });
  const { members } = await rest('alice', '/boards/board-1/members');
  assert.equal(members.find(m => m.userId === 'alice').role, 'owner');
});

test('a label made offline from a card ends up on that card with the server\'s id', async () => {
  const alice = await demo('alice');
  const bob = await demo('bob');
  await alice.context().setOffline(true);
  await alice.locator('#status[data-state="offline"]').waitFor();
  const card = alice.locator('.card', { hasText: 'Write the launch announcement' });
  await card.hover();
  await card.locator('button[aria-label="Details"]').click();
  const panel = alice.locator('#detail');
  await panel.locator('.label-name').fill('Blocked');
  await panel.locator('.label-color').fill('#eb5a46');
  await panel.locator('button', { hasText: 'Add label' }).click();
  assert.ok(await panel.locator('label.check', { hasText: 'Blocked' }).locator('input').isChecked());
  await panel.locator('button[type="submit"]').click();
  // Shown at once on the card, pending.
  await card.locator('.label.pending', { hasText: 'Blocked' }).waitFor({ timeout: 1000 });
  const queued = await alice.evaluate(() => JSON.parse(localStorage.getItem('boardcast.queue.board-1')).map(op => op.kind));
  assert.deepEqual(queued, ['label-create', 'update'], 'the card update waits behind the label');

  await alice.context().setOffline(false);
  const seen = bob.locator('.card', { hasText: 'Write the launch announcement' });
  await seen.locator('.label', { hasText: 'Blocked' }).waitFor({ timeout: 5000 });
  await alice.waitForFunction(() => JSON.parse(localStorage.getItem('boardcast.queue.board-1')).length === 0, null, { timeout: 5000 });
  const { labels } = await rest('alice', '/boards/board-1/labels');
  const blocked = labels.filter(l => l.name === 'Blocked');
  assert.equal(blocked.length, 1, 'created once');
  assert.deepEqual((await rest('alice', '/tasks/task-1')).labelIds, [blocked[0].id]);
  await card.locator('.label:not(.pending)', { hasText: 'Blocked' }).waitFor();
});
