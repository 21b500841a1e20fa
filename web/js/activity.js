// The activity panel: the board's history, newest first, a page at a time.

import { $, state, el } from './state.js';
import { api, enc } from './api.js';

const panel = $('#activity');
let nextBefore = 0;

function entry(e) {
  const when = new Date(e.occurredAt);
  const li = el('li', {}, el('span', { className: 'summary', textContent: e.summary }),
    el('time', { dateTime: e.occurredAt, textContent: when.toLocaleString(), className: 'when' }));
  li.dataset.seq = e.seq;
  return li;
}

async function fetchPage(before) {
  const q = before ? `&before=${before}` : '';
  return api('GET', `/boards/${enc(state.boardId)}/activity?limit=20${q}`);
}

function setOlder(r) {
  nextBefore = r.nextBefore || 0;
  $('.older', panel).hidden = !nextBefore;
}

export async function openActivity() {
  $('ol', panel).replaceChildren();
  panel.hidden = false;
  await refreshActivity();
}

/// The newest page; entries already shown stay (with the older pages loaded below them).
export async function refreshActivity() {
  if (panel.hidden) return;
  const r = await fetchPage(0).catch(() => null);
  if (!r) return;
  const ol = $('ol', panel);
  const top = Number(ol.firstElementChild?.dataset.seq || 0);
  if (!top) setOlder(r);
  ol.prepend(...r.entries.filter(e => e.seq > top).map(entry));
}

$('.older', panel).addEventListener('click', async () => {
  const r = await fetchPage(nextBefore);
  setOlder(r);
  $('ol', panel).append(...r.entries.map(entry));
});
$('.close', panel).addEventListener('click', () => { panel.hidden = true; });
