// The card detail panel and the activity panel against the REST contract of issue 11
// (labels, assignees, due dates, activity). The server parts they need are stubbed
// with page.route, so these tests hold the page to the contract whether or not the
// server in this build has them yet; both panels also have to cope with their absence.
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

async function demo(user, stub) {
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

const json = (route, body, status = 200) => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
const BUG = { id: 'label-1', boardId: 'board-1', name: 'Bug', color: '#eb5a46' };

test('the card panel edits assignees, labels and the due date as the contract says', async () => {
  const sent = {};
  const alice = await demo('alice', async page => {
    await page.route('**/boards/board-1/labels', (route, req) => {
      if (req.method() === 'POST') { sent.label = req.postDataJSON(); return json(route, { ...sent.label, id: 'label-2', boardId: 'board-1' }, 201); }
      return json(route, { labels: [BUG] });
    });
    await page.route('**/boards/board-1', async route => {
      const board = await (await route.fetch()).json();
      for (const t of board.tasks) Object.assign(t, { assigneeIds: [], labelIds: [], dueAt: null });
      Object.assign(board.tasks.find(t => t.id === 'task-2'), { assigneeIds: ['bob'], labelIds: ['label-1'], dueAt: '2026-12-24T17:00:00Z' });
      return json(route, board);
    });
    await page.route('**/tasks/task-1', (route, req) => {
      if (req.method() !== 'PATCH') return route.continue();
      sent.patch = { body: req.postDataJSON(), ifMatch: req.headers()['if-match'], key: req.headers()['idempotency-key'] };
      return json(route, {});
    });
  });

  // A card shows its labels, due date and assignees.
  const staging = alice.locator('.card', { hasText: 'Set up the staging server' });
  await staging.locator('.label', { hasText: 'Bug' }).waitFor();
  await staging.locator('.avatar[title="Bob"]').waitFor();
  await staging.locator('.due').waitFor();

  const card = alice.locator('.card', { hasText: 'Write the launch announcement' });
  await card.hover();
  await card.locator('button[aria-label="Details"]').click();
  const panel = alice.locator('#detail');
  await panel.locator('label.check', { hasText: 'Bob' }).locator('input').check();
  await panel.locator('label.check', { hasText: 'Bug' }).locator('input').check();
  await panel.locator('input[name="dueAt"]').fill('2026-12-24T17:00');
  await panel.locator('.label-name').fill('Urgent');
  await panel.locator('.label-color').fill('#ff9f1a');
  await panel.locator('button', { hasText: 'Add label' }).click();
  await panel.locator('button[type="submit"]').click();
  await alice.waitForFunction(() => !document.querySelector('#detail') || document.querySelector('#detail').hidden);
  for (let i = 0; i < 50 && !sent.patch; i++) await alice.waitForTimeout(100);

  assert.deepEqual(sent.label, { name: 'Urgent', color: '#ff9f1a' });
  assert.deepEqual(sent.patch.body, { assigneeIds: ['bob'], labelIds: ['label-1'], dueAt: '2026-12-24T17:00:00Z' },
    'only what changed: absent fields stay unchanged');
  assert.equal(sent.patch.ifMatch, '"1"');
  assert.ok(sent.patch.key);

  // Clearing the due date sends null.
  sent.patch = null;
  await alice.reload();
  await alice.locator('#status[data-state="live"]').waitFor();
  await staging.hover();
  await staging.locator('button[aria-label="Details"]').click();
  await panel.locator('input[name="dueAt"]').waitFor();
  assert.equal(await panel.locator('input[name="dueAt"]').inputValue(), '2026-12-24T17:00');
  await alice.route('**/tasks/task-2', (route, req) => {
    if (req.method() !== 'PATCH') return route.continue();
    sent.patch = { body: req.postDataJSON() };
    return json(route, {});
  });
  await panel.locator('input[name="dueAt"]').fill('');
  await panel.locator('label.check', { hasText: 'Bob' }).locator('input').uncheck();
  await panel.locator('button[type="submit"]').click();
  for (let i = 0; i < 50 && !sent.patch; i++) await alice.waitForTimeout(100);
  assert.deepEqual(sent.patch.body, { assigneeIds: [], dueAt: null });
});

test('without labels on the server, the panel edits title and description only', async () => {
  const alice = await demo('alice', page => page.route('**/boards/board-1/labels', route => json(route, { error: { code: 'not_found', message: 'route not found' } }, 404)));
  const card = alice.locator('.card', { hasText: 'Write the launch announcement' });
  await card.hover();
  await card.locator('button[aria-label="Details"]').click();
  await alice.fill('#detail input[name="title"]', 'Write the launch post');
  assert.equal(await alice.locator('#detail input[name="dueAt"], #detail fieldset').count(), 0);
  await alice.click('#detail button[type="submit"]');
  await alice.locator('.card:not(.pending)', { hasText: 'Write the launch post' }).waitFor({ timeout: 3000 });
});

test('the activity panel pages newest first; without the endpoint there is no Activity button', async () => {
  const without = await demo('alice', page => page.route('**/boards/board-1/activity*', route => json(route, { error: { code: 'not_found', message: 'route not found' } }, 404)));
  await without.waitForTimeout(300);
  assert.equal(await without.locator('#activity-button').isVisible(), false);

  const asked = [];
  const entry = (seq, summary) => ({ seq, occurredAt: '2026-12-01T10:00:00Z', actorId: 'alice', actorName: 'Alice', type: 'task_moved', summary });
  const alice = await demo('bob', page => page.route('**/boards/board-1/activity*', route => {
    const url = new URL(route.request().url());
    asked.push(url.search);
    if (url.searchParams.get('before') === '2') return json(route, { entries: [entry(1, 'Alice created “Ship it”')], nextBefore: 0 });
    return json(route, { entries: [entry(3, 'Alice moved “Ship it” to Done'), entry(2, 'Bob renamed list “Doing” to “In progress”')], nextBefore: 2 });
  }));
  await alice.locator('#activity-button').click();
  const items = alice.locator('#activity li .summary');
  await items.nth(1).waitFor();
  assert.deepEqual(await items.allTextContents(), ['Alice moved “Ship it” to Done', 'Bob renamed list “Doing” to “In progress”']);
  await alice.locator('#activity .older').click();
  await items.nth(2).waitFor();
  assert.equal(await items.nth(2).textContent(), 'Alice created “Ship it”');
  assert.equal(await alice.locator('#activity .older').isVisible(), false, 'no older page');
  assert.ok(asked.some(q => q.includes('before=2')));
});
