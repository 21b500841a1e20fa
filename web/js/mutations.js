// Mutations: each is queued (and kept in localStorage, so a reload or a stretch
// offline keeps it), shown at once, and sent in order with its request id as
// Idempotency-Key (and the version the user saw as If-Match), so none is applied
// twice and none overwrites a change the user never saw.

import { api, enc, ApiError } from './api.js';
import { state, hooks, showMessage } from './state.js';
import { displayed, loadBoard, saveQueue, changesOf } from './model.js';

export function mutate(op) {
  op.requestId = crypto.randomUUID();
  state.queue.push(op);
  saveQueue();
  hooks.render();
  pump();
}

function describe(op) {
  return {
    create: `Creating “${op.title}”`, update: 'Your edit', move: 'Your move', delete: 'Your delete',
    'list-create': `Adding the list “${op.name}”`, 'list-rename': 'Renaming the list', 'list-move': 'Moving the list',
    'list-delete': 'Deleting the list',
    'board-update': boardChange(op.changes), 'member-add': `Inviting @${op.username}`,
    'member-role': 'The role change', 'member-remove': 'Removing the member', 'label-create': `The label “${op.name}”`,
  }[op.kind];
}

function boardChange(changes = {}) {
  if (changes.name !== undefined) return `Renaming the board to “${changes.name}”`;
  return changes.archived ? 'Archiving the board' : 'Unarchiving the board';
}

function send(op) {
  const headers = { 'Idempotency-Key': op.requestId };
  if (['update', 'move', 'delete'].includes(op.kind)) headers['If-Match'] = `"${op.version}"`;
  const path = `/tasks/${enc(op.taskId)}`;
  const list = `/lists/${enc(op.listId)}`;
  const board = `/boards/${enc(state.boardId)}`;
  const member = `${board}/members/${enc(op.userId)}`;
  switch (op.kind) {
    case 'create': return api('POST', '/tasks', { title: op.title, listId: op.listId, position: op.position }, headers);
    case 'update': return api('PATCH', path, changesOf(op), headers);
    case 'move': return api('PATCH', `${path}/move`, { listId: op.listId, position: op.position }, headers);
    case 'delete': return api('DELETE', path, undefined, headers);
    case 'list-create': return api('POST', `${board}/lists`, { name: op.name, position: op.position }, headers);
    case 'list-rename': return api('PATCH', list, { name: op.name }, headers);
    case 'list-move': return api('PATCH', `${list}/move`, { position: op.position }, headers);
    case 'list-delete':
      return api('DELETE', op.moveTasksTo ? `${list}?moveTasksTo=${enc(op.moveTasksTo)}` : list, undefined, headers);
    case 'board-update': return api('PATCH', board, op.changes, headers);
    case 'member-add': return api('POST', `${board}/members`, { username: op.username, role: op.role }, headers);
    case 'member-role': return api('PATCH', member, { role: op.role }, headers);
    case 'member-remove': return api('DELETE', member, undefined, headers);
    case 'label-create': return api('POST', `${board}/labels`, { name: op.name, color: op.color }, headers);
  }
  return Promise.resolve();
}

const TASK_KINDS = ['create', 'update', 'move', 'delete'];

// Client-side label id → the server's (null: refused), for card updates saved after the answer.
const relabeled = new Map();

/// Replaces a pending label's client-side id in the queued card updates (or drops it when refused).
function relabel(tempId, id) {
  relabeled.set(tempId, id ?? null);
  for (const o of state.queue) {
    const ids = o.kind === 'update' && o.changes?.labelIds;
    if (ids && ids.includes(tempId)) o.changes.labelIds = id ? ids.map(x => (x === tempId ? id : x)) : ids.filter(x => x !== tempId);
  }
}

/// Sends pending mutations in order. A refused one is rolled back with a message;
/// a network failure stops the run and leaves the rest for later.
export async function pump() {
  if (state.sending) return;
  state.sending = true;
  try {
    for (const op of [...state.queue]) {
      if (op.acked) continue;
      try {
        const answer = await send(op);
        op.acked = true;
        // A label made from a card: the card's queued update now names the server's id.
        if (op.kind === 'label-create') relabel(op.tempId, answer?.id);
        saveQueue();
      } catch (e) {
        if (!(e instanceof ApiError)) break;
        state.queue = state.queue.filter(o => o !== op);
        if (op.kind === 'label-create') relabel(op.tempId, undefined);
        saveQueue();
        const conflict = e.status === 412 || (e.status === 409 && TASK_KINDS.includes(op.kind));
        const text = conflict
          ? `${describe(op)} was not saved: someone changed this task first. Showing the latest version.`
          : `${describe(op)} was refused: ${e.message}`;
        showMessage(text);
        hooks.refused(op, text);
        if (conflict) await loadBoard().catch(() => {});
      }
    }
  } finally {
    state.sending = false;
    hooks.render();
  }
}

setInterval(() => { if (state.queue.some(op => !op.acked)) pump(); }, 3000);

export function create(listId, title) {
  if (!title.trim()) { showMessage('A task needs a title.'); return; }
  mutate({ kind: 'create', listId, title: title.trim(), tempId: `pending-${crypto.randomUUID()}` });
}

function versionOf(taskId) { return displayed().tasks.get(taskId)?.version ?? 0; }

/// `version` is the one the user saw when the edit began: if anyone changed the task
/// since, the server refuses the edit instead of losing their change.
export function update(taskId, changes, version) {
  if (changes.labelIds) changes.labelIds = changes.labelIds.map(id => (relabeled.has(id) ? relabeled.get(id) : id)).filter(Boolean);
  mutate({ kind: 'update', taskId, changes, version });
}

export function move(taskId, listId, position) {
  mutate({ kind: 'move', taskId, listId, position: Math.max(0, position), version: versionOf(taskId) });
}

export function remove(taskId) {
  mutate({ kind: 'delete', taskId, version: versionOf(taskId) });
}

export function createList(name) {
  if (!name.trim()) { showMessage('A list needs a name.'); return; }
  mutate({ kind: 'list-create', name: name.trim(), tempId: `pending-${crypto.randomUUID()}` });
}

export function renameList(listId, name) {
  if (name.trim()) mutate({ kind: 'list-rename', listId, name: name.trim() });
}

export function moveList(listId, position) {
  const count = displayed().lists.length;
  mutate({ kind: 'list-move', listId, position: Math.min(Math.max(0, position), count - 1) });
}

export function deleteList(listId, moveTasksTo) {
  mutate({ kind: 'list-delete', listId, moveTasksTo: moveTasksTo || undefined });
}

/// A rename (`{ name }`) or (un)archive (`{ archived }`) of the open board.
export function updateBoard(changes) {
  mutate({ kind: 'board-update', changes });
}

export function addMember(username, role) {
  if (!username.trim()) { showMessage('An invitation needs a username.'); return; }
  mutate({ kind: 'member-add', username: username.trim(), role, tempId: `pending-${crypto.randomUUID()}` });
}

export function changeRole(userId, role) {
  mutate({ kind: 'member-role', userId, role });
}

export function removeMember(userId) {
  mutate({ kind: 'member-remove', userId });
}

/// Queues a label and returns its client-side id (a card update queued after it is sent with the server's id).
export function createLabel(name, color) {
  if (!name.trim()) { showMessage('A label needs a name.'); return null; }
  const tempId = `pending-${crypto.randomUUID()}`;
  mutate({ kind: 'label-create', name: name.trim(), color, tempId });
  return tempId;
}
