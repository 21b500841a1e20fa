// The activity panel: the board's history, newest first, a page at a time. Servers
// without `GET /boards/:id/activity` (404) get no Activity button.

import { $, state, el } from './state.js';
import { api, enc } from './api.js';

const panel = $('#activity');
let nextBefore = 0;

export async function detectActivity() {
  try {
    await api('GET', `/boards/${enc(state.boardId)}/activity?limit=1`);
    state.features.activity = true;
  } catch { state.features.activity = false; }
  $('#activity-button').hidden = !state.features.activity;
}

function entry(e) {
  const when = new Date(e.occurredAt);
  const li = el('li', {}, el('span', { className: 'summary', textContent: e.summary }),
    el('time', { dateTime: e.occurredAt, textContent: when.toLocaleString(), className: 'when' }));
  li.dataset.seq = e.seq;
  return li;
}

async function page(before) {
  const q = before ? `&before=${before}` : '';
  const r = await api('GET', `/boards/${enc(state.boardId)}/activity?limit=20${q}`);
  nextBefore = r.nextBefore || 0;
  $('.older', panel).hidden = !nextBefore;
  return r.entries.map(entry);
}

export async function openActivity() {
  panel.hidden = false;
  await refreshActivity();
}

export async function refreshActivity() {
  if (panel.hidden) return;
  const entries = await page(0).catch(() => []);
  $('ol', panel).replaceChildren(...entries);
}

$('.older', panel).addEventListener('click', async () => {
  $('ol', panel).append(...await page(nextBefore));
});
$('.close', panel).addEventListener('click', () => { panel.hidden = true; });
