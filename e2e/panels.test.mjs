// The card detail panel (assignees, labels, due date) and the activity panel, against
// the real server: what one window saves, another window shows live, and the server
// holds exactly what the page sent.
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

async function demo(user, stub = async () => {}) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 700 }, timezoneId: 'UTC' });
  contexts.push(context);
  await context.addInitScript(token => localStorage.setItem('boardcast.token', token), server.tokens[user]);
  const page = await context.newPage();
  page.on('pageerror', e => { throw e; });
  await stub(page);
  await page.goto(`${server.url}/#board-1`);
  await page.locator('#status[data-state="live"]').waitFor();
  return page;
}

const rest = (method, path, user, body) => fetch(`${server.url}${path}`, {
  method,
  headers: { authorization: `Bearer ${server.tokens[user]}`, 'content-type': 'application/json' },
  body: body === undefined ? undefined : JSON.stringify(body),
}).then(r => r.json());
const task = async id => rest('GET', `/tasks/${id}`, 'alice');

test('the card panel sets assignees, a new label and the due date, and another window sees them live', async () => {
  const alice = await demo('alice');
  const bob = await demo('bob');
  const card = alice.locator('.card', { hasText: 'Write the launch announcement' });
  await card.hover();
  await card.locator('button[aria-label="Details"]').click();
  const panel = alice.locator('#detail');
  await panel.locator('.label-name').fill('Urgent');
  await panel.locator('.label-color').fill('#ff9f1a');
  await panel.locator('button', { hasText: 'Add label' }).click();
  const urgentBox = panel.locator('label.check', { hasText: 'Urgent' }).locator('input');
  assert.ok(await urgentBox.isChecked(), 'a label made from a card goes on it');
  await panel.locator('label.check', { hasText: 'Bob' }).locator('input').check();
  await panel.locator('input[name="dueAt"]').fill('2026-12-24T17:00');
  await panel.locator('button[type="submit"]').click();

  // Bob's window shows all three on the card, without a reload.
  const seen = bob.locator('.card', { hasText: 'Write the launch announcement' });
  await seen.locator('.label', { hasText: 'Urgent' }).waitFor({ timeout: 5000 });
  await seen.locator('.avatar[title="Bob"]').waitFor();
  await seen.locator('.due').waitFor();
  const saved = await task('task-1');
  const { labels } = await rest('GET', '/boards/board-1/labels', 'alice');
  const urgent = labels.find(l => l.name === 'Urgent');
  assert.equal(urgent.color, '#ff9f1a');
  assert.deepEqual(saved.labelIds, [urgent.id]);
  assert.deepEqual(saved.assigneeIds, ['bob']);
  assert.equal(saved.dueAt, '2026-12-24T17:00:00Z');

  // Clearing the date and the assignee: gone from Bob's card too, the label stays.
  await card.hover();
  await card.locator('button[aria-label="Details"]').click();
  await panel.locator('input[name="dueAt"]').fill('');
  await panel.locator('label.check', { hasText: 'Bob' }).locator('input').uncheck();
  await panel.locator('button[type="submit"]').click();
  await bob.waitForFunction(() => {
    const c = [...document.querySelectorAll('.card')].find(e => e.textContent.includes('Write the launch announcement'));
    return c && !c.querySelector('.due') && !c.querySelector('.avatar[title="Bob"]');
  }, null, { timeout: 5000 });
  const cleared = await task('task-1');
  assert.equal(cleared.dueAt, null);
  assert.deepEqual(cleared.assigneeIds, []);
  assert.deepEqual(cleared.labelIds, [urgent.id]);
});

test('a viewer can read the card panel but has nothing to change', async () => {
  await rest('POST', '/boards/board-1/members', 'alice', { username: 'carol', role: 'viewer' });
  const carol = await demo('carol');
  const card = carol.locator('.card', { hasText: 'Write the launch announcement' });
  await card.hover();
  await card.locator('button[aria-label="Details"]').click();
  await carol.locator('#detail input[name="title"]').waitFor();
  assert.equal(await carol.locator('#detail input[name="title"]').isDisabled(), true, 'read-only fields');
  assert.equal(await carol.locator('#detail button[type="submit"]').count(), 0, 'no save for a viewer');
  assert.equal(await carol.locator('#detail .new-label').count(), 0, 'no label making for a viewer');
  assert.equal(await carol.locator('form.add').count(), 0, 'no add forms');
});

test('the activity panel tells the board\'s history newest first and pages back', async () => {
  // More than one page (the panel asks for 20 at a time).
  for (let i = 0; i < 22; i++) await rest('POST', '/tasks', 'bob', { title: `Chore ${i}`, listId: 'list-todo' });
  const alice = await demo('alice');
  await alice.locator('#activity-button').click();
  const items = alice.locator('#activity li .summary');
  await items.nth(19).waitFor();
  assert.equal(await items.count(), 20);
  assert.equal(await items.first().textContent(), 'Bob added “Chore 21” to To Do');
  await alice.locator('#activity .older').click();
  await items.nth(21).waitFor();
  assert.equal(await items.nth(21).textContent(), 'Bob added “Chore 0” to To Do');
  assert.equal(await alice.locator('#activity .older').isVisible(), false, 'no older page');
  // A change made now arrives at the top while the panel is open.
  await rest('POST', '/tasks', 'bob', { title: 'Late chore', listId: 'list-todo' });
  await alice.waitForFunction(() => document.querySelector('#activity li .summary')?.textContent === 'Bob added “Late chore” to To Do', null, { timeout: 5000 });
});
