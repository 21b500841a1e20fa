// boardcast web board: one page, ES modules, no build step (the files are in the binary).
//
// app.js starts the page: who is signed in (GET /me, else the sign-in screen), which
// board (the picker, `#boardId` in the address), then the board itself (js/model.js,
// js/board.js), its live streams (js/live.js: EventSource, the WebSocket, long polling)
// and the panels (js/detail.js, js/members.js, js/activity.js).

import { $, state, hooks, isOwner, canEdit, archived, showMessage } from './js/state.js';
import { api, saved, ApiError } from './js/api.js';
import { loadBoard, shownBoard } from './js/model.js';
import { pump, updateBoard } from './js/mutations.js';
import { render } from './js/board.js';
import { connectEvents, connectWs, setOffline, updateStatus, disconnect } from './js/live.js';
import { showSignIn, signOut } from './js/auth.js';
import { refreshDetail } from './js/detail.js';
import { openMembers, renderMembers, showMembersError } from './js/members.js';
import { openActivity, refreshActivity } from './js/activity.js';
import { askName } from './js/dialogs.js';

let leaving = false;
function leave() {
  if (leaving) return;
  leaving = true;
  disconnect();
  location.reload();
}

let refreshTimer = null;
Object.assign(hooks, {
  offline: setOffline,
  render: () => { render(); renderHeader(); renderMembers(); },
  refused: (op, text) => { if (op.kind.startsWith('member-')) showMembersError(text); },
  changed: ev => {
    refreshDetail();
    if (!ev || ev.type.startsWith('member_')) renderMembers();
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => refreshActivity(), 300);
  },
  // The session ended or access was withdrawn: start over (the sign-in screen, or the picker).
  signedOut: () => { if (state.user) leave(); },
  revoked: () => { if (state.user) leave(); },
  boardGone: text => { showMessage(text); history.replaceState(null, '', location.pathname); setTimeout(leave, 1500); },
});

function renderHeader() {
  const picker = $('#board-picker');
  const board = shownBoard(); // a pending rename or (un)archive shows at once, marked pending
  const boards = state.boards.map(b => (b.id === board?.id ? board : b));
  picker.replaceChildren(...boards.map(b => new Option(b.name + (b.archived ? ' (archived)' : ''), b.id)));
  if (state.boardId) picker.value = state.boardId;
  picker.classList.toggle('pending', !!board?.pending);
  picker.title = board?.pending ? 'Not saved yet: waiting for the server' : '';
  const owner = isOwner();
  $('#rename-board').hidden = !owner || archived();
  $('#archive-board').hidden = !owner;
  $('#archive-board').textContent = archived() ? 'Unarchive' : 'Archive';
  $('#members-button').hidden = !state.board;
  $('#activity-button').hidden = !state.board;
  $('#readonly-note').hidden = !state.board || canEdit();
  $('#readonly-note').textContent = archived() ? 'Archived: read-only' : 'Viewer: read-only';
}

// Creating a board stays a direct call (the page opens the board by its server id), so not offline.
async function newBoard() {
  if (state.offline) return;
  const name = await askName('New board', '', 'Create');
  if (!name) return;
  try {
    const board = await api('POST', '/boards', { name }, { 'Idempotency-Key': crypto.randomUUID() });
    location.hash = board.id;
    leave();
  } catch (e) { showMessage(`The board was not created: ${e.message}`); }
}

function wireHeader() {
  $('#board-picker').addEventListener('change', e => { location.hash = e.target.value; leave(); });
  $('#new-board').addEventListener('click', newBoard);
  $('#rename-board').addEventListener('click', async () => {
    const current = shownBoard()?.name;
    const name = await askName('Rename the board', current);
    if (name && name !== current) updateBoard({ name });
  });
  $('#archive-board').addEventListener('click', () => updateBoard({ archived: !archived() }));
  $('#members-button').addEventListener('click', openMembers);
  $('#activity-button').addEventListener('click', openActivity);
  $('#signout').addEventListener('click', signOut);
}

async function whoAmI() {
  try {
    return (await api('GET', '/me')).user;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { if (saved.token) saved.token = ''; return null; }
    throw e;
  }
}

async function start() {
  if (saved.token) saved.token = saved.token; // refresh the cookie the event stream carries
  state.user = await whoAmI();
  if (!state.user) { await showSignIn(); return; }
  document.body.dataset.screen = 'board';
  $('#app').hidden = false;
  $('#user-name').textContent = state.user.name || state.user.username;
  wireHeader();
  state.boards = (await api('GET', '/boards')).boards;
  const wanted = decodeURIComponent(location.hash.slice(1));
  state.boardId = state.boards.some(b => b.id === wanted) ? wanted : state.boards.find(b => !b.archived)?.id ?? state.boards[0]?.id;
  renderHeader();
  if (!state.boardId) { $('#empty').hidden = false; updateStatus(); return; }
  if (location.hash.slice(1) !== state.boardId) history.replaceState(null, '', `#${state.boardId}`);
  state.queue = saved.queue(state.boardId);
  await loadBoard();
  connectEvents();
  connectWs();
  pump();
  updateStatus();
}

$('#empty-new-board').addEventListener('click', newBoard);
// Another board's address (a link, Back): open that board.
window.addEventListener('hashchange', () => {
  if (state.user && decodeURIComponent(location.hash.slice(1)) !== state.boardId) leave();
});
window.addEventListener('online', () => setOffline(false));
window.addEventListener('offline', () => setOffline(true));
start().catch(e => showMessage(`Could not load the board: ${e.message}`));
