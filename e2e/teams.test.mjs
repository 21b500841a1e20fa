// The web board for real teams, in a real browser: sign-up and sign-in, boards, lists,
// members and roles, sign-out. Each test gets a fresh server (in-memory, --demo).
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

/// A fresh browser (its own cookies) on the page, not signed in.
async function visit(hash = '') {
  const context = await browser.newContext({ viewport: { width: 1200, height: 700 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', e => { throw e; });
  await page.goto(`${server.url}/${hash}`);
  await page.locator('#auth').waitFor();
  return page;
}

/// A window with a demo user's token (as board.test.mjs), on board-1.
async function demo(user) {
  // Wide enough for every list: a drag that scrolls the board midway is not what a person does.
  const context = await browser.newContext({ viewport: { width: 1800, height: 700 } });
  contexts.push(context);
  await context.addInitScript(token => localStorage.setItem('boardcast.token', token), server.tokens[user]);
  const page = await context.newPage();
  page.on('pageerror', e => { throw e; });
  await page.goto(`${server.url}/#board-1`);
  await live(page);
  return page;
}

async function signUp(username, name) {
  const page = await visit();
  await page.fill('#auth-form input[name="username"]', username);
  await page.fill('#auth-form input[name="password"]', `${username}-password-1`);
  await page.fill('#auth-form input[name="name"]', name);
  await page.click('#auth-form button[value="signup"]');
  await page.locator('#user-name', { hasText: name }).waitFor();
  return page;
}

const live = page => page.locator('#status[data-state="live"]').waitFor();
const list = (page, name) => page.locator('.list', { has: page.locator('h2', { hasText: name }) });
const inList = (page, listName, title) => list(page, listName).locator('.card', { hasText: title });
const listNames = page => page.locator('.list h2').allTextContents();

async function addList(page, name) {
  await page.fill('.add-list input', name);
  await page.press('.add-list input', 'Enter');
  await list(page, name).waitFor();
}

async function addTask(page, listName, title) {
  await list(page, listName).locator('.add input').fill(title);
  await list(page, listName).locator('.add input').press('Enter');
}

async function dialogAnswer(page, fields, button) {
  const dialog = page.locator('dialog.ask');
  for (const [name, value] of Object.entries(fields)) await dialog.locator(`[name="${name}"]`).fill(value);
  await dialog.locator('button', { hasText: button }).click();
}

async function invite(page, username, role) {
  await page.click('#members-button');
  const dialog = page.locator('#members-dialog');
  await dialog.locator('.invite input').fill(username);
  await dialog.locator('.invite select').selectOption(role);
  await dialog.locator('.invite button').click();
  await dialog.locator('.member', { hasText: `@${username}` }).waitFor();
  await dialog.locator('button', { hasText: 'Close' }).click();
}

test('sign-in errors show the server\'s message and field; too many attempts say when to retry', async () => {
  const page = await visit();
  const error = page.locator('#auth-error');
  await page.fill('#auth-form input[name="username"]', 'alice');
  await page.fill('#auth-form input[name="password"]', 'not-her-password');
  await page.click('#auth-form button[value="login"]');
  await error.filter({ hasText: 'wrong username or password' }).waitFor();

  await page.fill('#auth-form input[name="username"]', 'X!');
  await page.click('#auth-form button[value="signup"]');
  await error.filter({ hasText: 'username must be' }).waitFor();
  assert.equal(await page.getAttribute('#auth-form input[name="username"]', 'aria-invalid'), 'true');

  await page.fill('#auth-form input[name="username"]', 'alice');
  let status = 0;
  for (let i = 0; i < 15 && status !== 429; i++) {
    const answer = page.waitForResponse(r => r.url().endsWith('/auth/login'));
    await page.click('#auth-form button[value="login"]');
    status = (await answer).status();
  }
  assert.equal(status, 429);
  await error.filter({ hasText: /Try again in \d+ s\./ }).waitFor();
  assert.equal(await page.locator('#app').isVisible(), false);
});

test('two people sign up, one invites the other as editor, both edit cards live; a viewer cannot drag', async () => {
  const dana = await signUp('dana', 'Dana');
  const erin = await signUp('erin', 'Erin');
  const frank = await signUp('frank', 'Frank');
  await dana.locator('#empty').waitFor();

  await dana.click('#empty-new-board');
  await dialogAnswer(dana, { name: 'Team board' }, 'Create');
  await dana.locator('#board-picker option', { hasText: 'Team board' }).waitFor({ state: 'attached' });
  await live(dana);
  // A new board starts with To Do, Doing and Done.
  await list(dana, 'Doing').waitFor();
  await addTask(dana, 'To Do', 'First card');
  await inList(dana, 'To Do', 'First card').waitFor();
  const boardId = new URL(dana.url()).hash.slice(1);

  await invite(dana, 'erin', 'editor');
  await erin.goto(`${server.url}/#${boardId}`);
  await live(erin);
  await inList(erin, 'To Do', 'First card').waitFor();

  // Each sees the other's change without a reload.
  await addTask(dana, 'To Do', 'From Dana');
  await inList(erin, 'To Do', 'From Dana').waitFor({ timeout: 2000 });
  await inList(erin, 'To Do', 'First card').hover();
  await inList(erin, 'To Do', 'First card').locator('button[aria-label="Details"]').click();
  await erin.fill('#detail input[name="title"]', 'First card, by Erin');
  await erin.fill('#detail textarea[name="description"]', 'Erin wrote this.');
  await erin.click('#detail button[type="submit"]');
  await inList(dana, 'To Do', 'First card, by Erin').locator('.description', { hasText: 'Erin wrote this.' }).waitFor({ timeout: 2000 });
  await inList(erin, 'To Do', 'From Dana').dragTo(list(erin, 'Done').locator('.cards'));
  await inList(dana, 'Done', 'From Dana').waitFor({ timeout: 2000 });

  // Frank, a viewer: a read-only board.
  await invite(dana, 'frank', 'viewer');
  await frank.goto(`${server.url}/#${boardId}`);
  await live(frank);
  await inList(frank, 'To Do', 'First card, by Erin').waitFor();
  assert.equal(await frank.locator('.add').count(), 0, 'no add-task form');
  assert.equal(await frank.locator('.add-list').count(), 0, 'no add-list form');
  assert.equal(await frank.locator('.card[draggable="true"], .list h2[draggable="true"]').count(), 0, 'nothing draggable');
  assert.equal(await frank.locator('.list-actions, .card button:has-text("Edit")').count(), 0, 'no edit buttons');
  await frank.locator('#readonly-note', { hasText: 'Viewer' }).waitFor();
  await inList(frank, 'To Do', 'First card, by Erin').dragTo(list(frank, 'Done').locator('.cards'));
  await frank.waitForTimeout(500);
  assert.equal(await inList(frank, 'To Do', 'First card, by Erin').count(), 1, 'the card stays where it was');
  assert.equal(await inList(dana, 'To Do', 'First card, by Erin').count(), 1);
  assert.equal(await frank.locator('.card.pending').count(), 0, 'no move was attempted');
});

test('lists are added, renamed, reordered and deleted live across two windows', async () => {
  const alice = await demo('alice');
  const bob = await demo('bob');
  await addList(alice, 'Review');
  await list(bob, 'Review').waitFor({ timeout: 2000 });

  await list(alice, 'Review').hover();
  await list(alice, 'Review').locator('.rename-list').click();
  await dialogAnswer(alice, { name: 'QA' }, 'Save');
  await list(bob, 'QA').waitFor({ timeout: 2000 });
  assert.deepEqual(await listNames(bob), ['To Do', 'In Progress', 'Done', 'QA']);

  // By drag and drop: QA before To Do.
  await list(alice, 'QA').locator('h2').dragTo(list(alice, 'To Do').locator('h2'));
  await bob.waitForFunction(() => document.querySelector('.list h2')?.textContent === 'QA', null, { timeout: 2000 });
  assert.deepEqual(await listNames(alice), ['QA', 'To Do', 'In Progress', 'Done']);

  // By keyboard: Alt+→ moves it one place right.
  await list(alice, 'QA').locator('h2').focus();
  await alice.keyboard.press('Alt+ArrowRight');
  await bob.waitForFunction(() => document.querySelectorAll('.list h2')[1]?.textContent === 'QA', null, { timeout: 2000 });
  assert.deepEqual(await listNames(bob), ['To Do', 'QA', 'In Progress', 'Done']);

  // Deleting a list that holds tasks asks where they go.
  await list(alice, 'In Progress').hover();
  await list(alice, 'In Progress').locator('.delete-list').click();
  await alice.locator('dialog.ask select').selectOption({ label: 'Done' });
  await alice.locator('dialog.ask button', { hasText: 'Delete' }).click();
  await inList(bob, 'Done', 'Design the landing page').waitFor({ timeout: 2000 });
  assert.deepEqual(await listNames(bob), ['To Do', 'QA', 'Done']);
  assert.equal(await alice.locator('.list.pending').count(), 0);
});

test('signing out returns to the sign-in screen, in every window of that session', async () => {
  const gina = await signUp('gina', 'Gina');
  await gina.click('#empty-new-board');
  await dialogAnswer(gina, { name: 'Gina\'s board' }, 'Create');
  await live(gina);
  const other = await gina.context().newPage();
  await other.goto(gina.url());
  await live(other);

  await gina.click('#signout');
  await gina.locator('#auth').waitFor();
  await other.locator('#auth').waitFor({ timeout: 5000 });
  const me = await gina.evaluate(() => fetch('/me').then(r => r.status));
  assert.equal(me, 401);
});

test('an owner renames the board and removes a member: the others see it live', async () => {
  const alice = await demo('alice');
  const bob = await demo('bob');
  await alice.click('#rename-board');
  await dialogAnswer(alice, { name: 'Launch 2' }, 'Save');
  await bob.locator('#board-picker option', { hasText: 'Launch 2' }).waitFor({ state: 'attached', timeout: 2000 });
  assert.equal(await bob.locator('#rename-board').isVisible(), false, 'an editor cannot rename');

  await alice.click('#members-button');
  await alice.locator('#members-dialog .member', { hasText: '@bob' }).locator('button', { hasText: 'Remove' }).click();
  await alice.locator('#members-dialog .member', { hasText: '@bob' }).waitFor({ state: 'detached' });
  // bob was only on board-1: his window leaves it for the empty board picker.
  await bob.locator('#empty').waitFor({ timeout: 5000 });
  assert.equal(await bob.locator('.card').count(), 0);
});

test('without guests (any non-loopback address) the page offers sign-up and sign-in only, and they work', async () => {
  server.stop();
  server = await startServer(['--guests', 'false']);
  const page = await visit();
  await page.waitForTimeout(300);
  assert.equal(await page.locator('#demo-users').isVisible(), false, 'no demo sign-in');
  await page.fill('#auth-form input[name="username"]', 'bob');
  await page.fill('#auth-form input[name="password"]', 'bob-demo-pw');
  await page.click('#auth-form button[value="login"]');
  await page.locator('#user-name', { hasText: 'Bob' }).waitFor();
  await live(page);
  await list(page, 'In Progress').locator('.card', { hasText: 'Design the landing page' }).waitFor();
});

test('a refused list change rolls back with a message', async () => {
  const alice = await demo('alice');
  const bob = await demo('bob');
  // Offline, alice deletes Done, moving its task to To Do; meanwhile bob deletes To Do.
  await alice.context().setOffline(true);
  await list(alice, 'Done').hover();
  await list(alice, 'Done').locator('.delete-list').click();
  await alice.locator('dialog.ask select').selectOption({ label: 'To Do' });
  await alice.locator('dialog.ask button', { hasText: 'Delete' }).click();
  await list(alice, 'Done').waitFor({ state: 'detached' });
  await inList(alice, 'To Do', 'Create the repository').waitFor();

  await list(bob, 'To Do').hover();
  await list(bob, 'To Do').locator('.delete-list').click();
  await bob.locator('dialog.ask select').selectOption({ label: 'In Progress' });
  await bob.locator('dialog.ask button', { hasText: 'Delete' }).click();
  await inList(bob, 'In Progress', 'Set up the staging server').waitFor();

  await alice.context().setOffline(false);
  await alice.locator('#message', { hasText: 'Deleting the list was refused' }).waitFor({ timeout: 10000 });
  await inList(alice, 'Done', 'Create the repository').waitFor({ timeout: 5000 });
  assert.deepEqual(await listNames(alice), ['In Progress', 'Done']);
  assert.deepEqual(await listNames(bob), ['In Progress', 'Done']);
});
