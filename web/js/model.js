// What the page shows is the server's state (GET /boards/:id, then events applied in
// seq order) with this browser's pending mutations applied on top, as the server would
// apply them. A pending mutation is dropped when its event (matched by request id)
// comes back, or when the server refuses it — that is the rollback.

import { api, enc, saved } from './api.js';
import { state, hooks } from './state.js';

export function inList(tasks, listId) {
  return [...tasks.values()].filter(t => t.listId === listId).sort((a, b) => a.position - b.position);
}

export function sortedLists(lists) {
  return [...lists].sort((a, b) => a.position - b.position);
}

function renumber(ordered) {
  ordered.forEach((t, i) => { t.position = i; });
}

function defined(changes) {
  return Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
}

/// Older queued edits (before the detail panel) carried title/description at the top level.
export function changesOf(op) {
  return defined(op.changes ?? { title: op.title, description: op.description });
}

function applyTask(tasks, op) {
  const task = op.taskId && tasks.get(op.taskId);
  switch (op.kind) {
    case 'create': {
      const order = inList(tasks, op.listId);
      const t = { id: op.tempId, listId: op.listId, title: op.title, description: '', version: 0, position: 0, pending: true };
      order.splice(Math.min(op.position ?? order.length, order.length), 0, t);
      tasks.set(t.id, t);
      renumber(order);
      break;
    }
    case 'update':
      if (task) Object.assign(task, changesOf(op), { version: task.version + 1, pending: true });
      break;
    case 'move': {
      if (!task) return;
      renumber(inList(tasks, task.listId).filter(t => t.id !== task.id));
      const to = inList(tasks, op.listId).filter(t => t.id !== task.id);
      to.splice(Math.min(op.position, to.length), 0, task);
      Object.assign(task, { listId: op.listId, version: task.version + 1, pending: true });
      renumber(to);
      break;
    }
    case 'delete':
      if (!task) return;
      tasks.delete(task.id);
      renumber(inList(tasks, task.listId));
      break;
  }
}

function applyList(model, op) {
  const list = model.lists.find(l => l.id === op.listId);
  switch (op.kind) {
    case 'list-create': {
      const order = sortedLists(model.lists);
      order.splice(Math.min(op.position ?? order.length, order.length), 0, { id: op.tempId, name: op.name, pending: true });
      renumber(order);
      model.lists = order;
      break;
    }
    case 'list-rename':
      if (list) Object.assign(list, { name: op.name, pending: true });
      break;
    case 'list-move': {
      if (!list) return;
      const order = sortedLists(model.lists).filter(l => l !== list);
      order.splice(Math.min(op.position, order.length), 0, list);
      list.pending = true;
      renumber(order);
      model.lists = order;
      break;
    }
    case 'list-delete': {
      if (!list) return;
      model.lists = sortedLists(model.lists).filter(l => l !== list);
      renumber(model.lists);
      const target = op.moveTasksTo && inList(model.tasks, op.moveTasksTo);
      for (const t of inList(model.tasks, list.id)) {
        if (target) { t.listId = op.moveTasksTo; target.push(t); } else model.tasks.delete(t.id);
      }
      if (target) renumber(target);
      break;
    }
  }
}

/// The server's state with this browser's pending mutations on top: `{ tasks, lists }`.
export function displayed() {
  const model = {
    tasks: new Map([...state.tasks].map(([id, t]) => [id, { ...t }])),
    lists: state.lists.map(l => ({ ...l })),
  };
  for (const op of state.queue) {
    if (op.kind.startsWith('list-')) applyList(model, op); else applyTask(model.tasks, op);
  }
  model.lists = sortedLists(model.lists);
  return model;
}

/// The open board as shown: a pending rename or (un)archive on top of the server's.
export function shownBoard() {
  let board = state.board && { ...state.board };
  for (const op of state.queue) if (op.kind === 'board-update' && board) board = { ...board, ...op.changes, pending: true };
  return board;
}

/// The members as shown: pending invitations, role changes and removals on top of the server's.
export function shownMembers() {
  let members = state.members.map(m => ({ ...m }));
  for (const op of state.queue) {
    const m = members.find(x => x.userId === op.userId);
    if (op.kind === 'member-add' && !members.some(x => x.username.toLowerCase() === op.username.toLowerCase())) {
      members.push({ userId: op.tempId, username: op.username, name: op.username, role: op.role, pending: true });
    } else if (op.kind === 'member-role' && m) Object.assign(m, { role: op.role, pending: true });
    else if (op.kind === 'member-remove') members = members.filter(x => x.userId !== op.userId);
  }
  return members;
}

/// The labels as shown: pending creations (with their client-side ids) among the server's.
export function shownLabels() {
  const labels = state.labels.map(l => ({ ...l }));
  for (const op of state.queue) {
    if (op.kind === 'label-create') labels.push({ id: op.tempId, name: op.name, color: op.color, pending: true });
  }
  return labels.sort((a, b) => a.name.localeCompare(b.name));
}

/// Every page of the board's tasks. Each page is read on its own: pages with one seq
/// are one picture, so a change between pages starts the reading over (a few times;
/// then the earliest seq is kept, and the stream replays what came after it).
async function boardPages(id) {
  let first;
  for (let attempt = 0; attempt < 3; attempt++) {
    first = await api('GET', `/boards/${id}?limit=1000`);
    const tasks = [...first.tasks];
    let page = first, consistent = true;
    while (page.nextPageToken) {
      page = await api('GET', `/boards/${id}?limit=1000&pageToken=${encodeURIComponent(page.nextPageToken)}`);
      tasks.push(...page.tasks);
      if (page.seq !== first.seq) consistent = false;
    }
    first = { ...first, tasks };
    if (consistent) break;
  }
  return first;
}

export async function loadBoard() {
  const id = enc(state.boardId);
  const [board, members, labels] = await Promise.all([
    boardPages(id),
    api('GET', `/boards/${id}/members`),
    api('GET', `/boards/${id}/labels`),
  ]);
  state.board = board.board;
  state.lists = board.lists;
  state.tasks = new Map(board.tasks.map(t => [t.id, t]));
  state.seq = board.seq;
  state.members = members.members;
  state.labels = labels.labels;
  // What the server answered for is now in its state; what it never saw is still pending.
  state.queue = state.queue.filter(op => !op.acked);
  saveQueue();
  hooks.render();
  hooks.changed();
}

export function saveQueue() { saved.saveQueue(state.boardId, state.queue); }

export function settle(requestId) {
  const before = state.queue.length;
  state.queue = state.queue.filter(op => op.requestId !== requestId);
  if (state.queue.length !== before) saveQueue();
}

function upsert(array, item, key = 'id') {
  const i = array.findIndex(x => x[key] === item[key]);
  if (i < 0) array.push(item); else array[i] = item;
}

function shiftLists(shifted = []) {
  for (const p of shifted) {
    const l = state.lists.find(x => x.id === p.listId);
    if (l) l.position = p.position;
  }
}

function shiftTasks(shifted = []) {
  for (const p of shifted) {
    const t = state.tasks.get(p.taskId);
    if (t) state.tasks.set(p.taskId, { ...t, listId: p.listId, position: p.position });
  }
}

function withoutIds(taskIds, key, id) {
  for (const taskId of taskIds || []) {
    const t = state.tasks.get(taskId);
    if (t?.[key]) state.tasks.set(taskId, { ...t, [key]: t[key].filter(x => x !== id) });
  }
}

/// Applies one event to the server's state; returns false when the board must be reloaded instead.
function apply(ev) {
  switch (ev.type) {
    case 'task_created': case 'task_updated': case 'task_moved':
      state.tasks.set(ev.task.id, ev.task); shiftTasks(ev.shifted); return true;
    case 'task_deleted': state.tasks.delete(ev.taskId); shiftTasks(ev.shifted); return true;
    case 'list_created': case 'list_updated': case 'list_moved':
      upsert(state.lists, ev.list); shiftLists(ev.shifted); return true;
    case 'list_deleted':
      state.lists = state.lists.filter(l => l.id !== ev.listId);
      shiftLists(ev.shifted);
      shiftTasks(ev.movedTasks);
      for (const t of [...state.tasks.values()]) if (t.listId === ev.listId) state.tasks.delete(t.id);
      return true;
    case 'label_created': case 'label_updated':
      upsert(state.labels, ev.label); state.labels.sort((a, b) => a.name.localeCompare(b.name)); return true;
    case 'label_deleted':
      state.labels = state.labels.filter(l => l.id !== ev.labelId);
      withoutIds(ev.taskIds, 'labelIds', ev.labelId);
      return true;
    case 'member_added': case 'member_updated': upsert(state.members, ev.member, 'userId'); return true;
    case 'member_removed':
      state.members = state.members.filter(m => m.userId !== ev.userId);
      withoutIds(ev.unassignedTaskIds, 'assigneeIds', ev.userId);
      return true;
    case 'board_updated': state.board = ev.board; upsert(state.boards, ev.board); return true;
    default: return false;
  }
}

export function applyEvent(ev) {
  if (ev.boardId !== state.boardId || ev.seq <= state.seq) return; // a duplicate (SSE and WS both carry events)
  if (ev.seq > state.seq + 1) { loadBoard(); return; }             // never guess across a gap
  if (ev.type === 'board_deleted') { hooks.boardGone(`The board “${ev.name}” was deleted.`); return; }
  if (ev.type === 'member_removed' && ev.userId === state.user?.id) { hooks.boardGone('You were removed from this board.'); return; }
  if (!apply(ev)) { loadBoard(); return; }
  state.seq = ev.seq;
  if (ev.requestId) settle(ev.requestId);
  hooks.render();
  hooks.changed(ev);
}
