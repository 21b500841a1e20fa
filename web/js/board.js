// The board: lists and cards, drag and drop (cards and lists), the keyboard, in-place edits.

import { $, state, el, canEdit, memberName, showMessage } from './state.js';
import { displayed, inList, shownLabels } from './model.js';
import { create, update, move, remove, createList, renameList, moveList, deleteList } from './mutations.js';
import { askName, ask } from './dialogs.js';
import { openDetail } from './detail.js';
import { wsSend } from './live.js';

const boardEl = $('#board');
const TASK = 'application/x-boardcast-task';
const LIST = 'application/x-boardcast-list';

export function render() {
  const { tasks, lists } = displayed();
  const editable = canEdit();
  document.body.classList.toggle('readonly', !editable);
  const scroll = boardEl.scrollLeft;
  const editingEl = state.editing && boardEl.querySelector(`[data-task-id="${CSS.escape(state.editing)}"]`);
  boardEl.querySelectorAll('.list, .add-list').forEach(e => e.remove());
  for (const list of lists) {
    const node = listNode(list, editable);
    const cards = $('.cards', node);
    for (const task of inList(tasks, list.id)) {
      cards.append(task.id === state.editing && editingEl ? editingEl : card(task, editable));
    }
    boardEl.append(node);
  }
  if (editable) boardEl.append(addListForm());
  boardEl.scrollLeft = scroll;
  if (state.focusId) {
    boardEl.querySelector(`[data-task-id="${CSS.escape(state.focusId)}"], [data-list-id="${CSS.escape(state.focusId)}"] h2`)?.focus();
    state.focusId = null;
  }
  renderCursors();
}

function listNode(list, editable) {
  const node = $('#list-template').content.firstElementChild.cloneNode(true);
  node.dataset.listId = list.id;
  if (list.pending) node.classList.add('pending');
  const h2 = $('h2', node);
  h2.textContent = list.name;
  const real = !list.id.startsWith('pending-');
  const form = $('.add', node);
  if (!editable || !real) { form.remove(); $('.list-actions', node).remove(); return node; }
  h2.tabIndex = 0;
  h2.draggable = true;
  h2.title = 'Drag, or Alt+←/→, to reorder; Enter to rename';
  h2.addEventListener('dragstart', e => { e.dataTransfer.setData(LIST, list.id); node.classList.add('dragging'); });
  h2.addEventListener('dragend', () => node.classList.remove('dragging'));
  h2.addEventListener('keydown', e => onListKey(e, list));
  $('.rename-list', node).addEventListener('click', () => rename(list));
  $('.delete-list', node).addEventListener('click', () => confirmDelete(list));
  form.addEventListener('submit', e => {
    e.preventDefault();
    const input = e.target.elements.title;
    create(list.id, input.value);
    input.value = '';
  });
  node.addEventListener('dragover', e => { if (e.dataTransfer.types.includes(TASK)) e.preventDefault(); });
  node.addEventListener('drop', e => {
    const id = e.dataTransfer.getData(TASK);
    if (!id) return;
    e.preventDefault();
    e.stopPropagation();
    move(id, list.id, dropIndex([...$('.cards', node).children], e.clientY, id, 'y'));
  });
  return node;
}

boardEl.addEventListener('dragover', e => { if (e.dataTransfer.types.includes(LIST)) e.preventDefault(); });
boardEl.addEventListener('drop', e => {
  const id = e.dataTransfer.getData(LIST);
  if (!id) return;
  e.preventDefault();
  const others = [...boardEl.querySelectorAll('.list')].filter(l => l.dataset.listId !== id);
  state.focusId = id;
  moveList(id, dropIndex(others, e.clientX, id, 'x'));
});

function addListForm() {
  const input = el('input', { name: 'name', placeholder: 'Add a list…', maxLength: 100, autocomplete: 'off' });
  input.setAttribute('aria-label', 'New list name');
  const form = el('form', { className: 'add-list' }, input);
  form.addEventListener('submit', e => {
    e.preventDefault();
    createList(input.value);
    input.value = '';
    state.focusId = null;
    requestAnimationFrame(() => boardEl.querySelector('.add-list input')?.focus());
  });
  return form;
}

async function rename(list) {
  const name = await askName('Rename the list', list.name);
  if (name && name !== list.name) renameList(list.id, name);
}

async function confirmDelete(list) {
  const { tasks, lists } = displayed();
  const count = inList(tasks, list.id).length;
  const others = lists.filter(l => l.id !== list.id && !l.id.startsWith('pending-'));
  if (count === 0) {
    const ok = await ask(`Delete the list “${list.name}”?`, [], 'Delete');
    if (ok) deleteList(list.id);
    return;
  }
  if (!others.length) { showMessage(`“${list.name}” holds ${count} tasks and there is no other list to move them to.`); return; }
  const r = await ask(`Delete the list “${list.name}”?`, [{
    label: `Its ${count} task${count === 1 ? '' : 's'} move to`, name: 'target', options: others.map(l => [l.id, l.name]),
  }], 'Delete');
  if (r) deleteList(list.id, r.target);
}

function onListKey(e, list) {
  if (e.target !== e.currentTarget) return;
  if (e.altKey && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')) {
    e.preventDefault();
    state.focusId = list.id;
    moveList(list.id, list.position + (e.key === 'ArrowLeft' ? -1 : 1));
  } else if (e.key === 'Enter') {
    e.preventDefault();
    rename(list);
  }
}

function dropIndex(items, at, draggedId, axis) {
  const others = items.filter(c => c.dataset.taskId !== draggedId && c.dataset.listId !== draggedId);
  return others.filter(c => {
    const r = c.getBoundingClientRect();
    return axis === 'y' ? r.top + r.height / 2 < at : r.left + r.width / 2 < at;
  }).length;
}

function chips(task) {
  const row = el('div', { className: 'chips' });
  const labels = shownLabels();
  for (const id of task.labelIds || []) {
    const label = labels.find(l => l.id === id);
    if (label) row.append(el('span', { className: 'label' + (label.pending ? ' pending' : ''), textContent: label.name, style: `background:${label.color}` }));
  }
  if (task.dueAt) {
    const due = new Date(task.dueAt);
    row.append(el('span', { className: 'due' + (due < new Date() ? ' overdue' : ''), textContent: `Due ${due.toLocaleDateString()}`, title: due.toLocaleString() }));
  }
  for (const id of task.assigneeIds || []) {
    const name = memberName(id);
    row.append(el('span', { className: 'avatar small', textContent: name.slice(0, 1).toUpperCase(), title: name }));
  }
  return row.childElementCount ? row : null;
}

function card(task, editable) {
  const node = el('li', { className: 'card' + (task.pending ? ' pending' : ''), tabIndex: 0 });
  node.dataset.taskId = task.id;
  const real = !task.id.startsWith('pending-');
  node.draggable = editable && real;
  node.append(el('div', { className: 'title', textContent: task.title }));
  if (task.description) node.append(el('div', { className: 'description', textContent: task.description }));
  node.append(chips(task) ?? '');
  for (const [userId, t] of state.typing) {
    if (t.taskId === task.id && userId !== state.user?.id) {
      node.append(el('div', { className: 'typing', textContent: `${t.name} is typing…` }));
    }
  }
  if (!real) return node;
  const open = el('button', { textContent: '⋯', title: 'Details' });
  open.setAttribute('aria-label', 'Details');
  open.addEventListener('click', () => openDetail(task.id));
  const actions = el('div', { className: 'actions' });
  if (editable) {
    const edit = el('button', { textContent: 'Edit', title: 'Edit (Enter)' });
    edit.addEventListener('click', () => startEdit(task.id));
    const del = el('button', { textContent: '✕', title: 'Delete (Delete)' });
    del.setAttribute('aria-label', 'Delete');
    del.addEventListener('click', () => remove(task.id));
    actions.append(edit, open, del);
    node.addEventListener('dragstart', e => { e.dataTransfer.setData(TASK, task.id); node.classList.add('dragging'); });
    node.addEventListener('dragend', () => node.classList.remove('dragging'));
    node.addEventListener('dblclick', () => startEdit(task.id));
  } else {
    actions.append(open);
  }
  node.append(actions);
  node.addEventListener('keydown', e => onCardKey(e, task.id, editable));
  return node;
}

/// Alt+↑/↓ moves a card within its list, Alt+←/→ to the next list; Enter edits, Delete deletes.
function onCardKey(e, taskId, editable) {
  if (e.target !== e.currentTarget) return;
  const { tasks, lists } = displayed();
  const task = tasks.get(taskId);
  if (!task) return;
  if (!editable) { if (e.key === 'Enter') openDetail(taskId); return; }
  const listIndex = lists.findIndex(l => l.id === task.listId);
  if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
    e.preventDefault();
    state.focusId = taskId;
    move(taskId, task.listId, task.position + (e.key === 'ArrowUp' ? -1 : 1));
  } else if (e.altKey && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')) {
    e.preventDefault();
    const next = lists[listIndex + (e.key === 'ArrowLeft' ? -1 : 1)];
    if (next && !next.id.startsWith('pending-')) { state.focusId = taskId; move(taskId, next.id, task.position); }
  } else if (e.key === 'Enter') {
    e.preventDefault();
    startEdit(taskId);
  } else if (e.key === 'Delete') {
    e.preventDefault();
    remove(taskId);
  }
}

function startEdit(taskId) {
  const task = displayed().tasks.get(taskId);
  if (!task) return;
  state.editing = null;
  render();
  const node = boardEl.querySelector(`[data-task-id="${CSS.escape(taskId)}"]`);
  node.draggable = false;
  node.replaceChildren();
  const title = el('input', { name: 'title', value: task.title, maxLength: 200 });
  title.setAttribute('aria-label', 'Title');
  const description = el('textarea', { name: 'description', value: task.description });
  description.setAttribute('aria-label', 'Description');
  const cancel = el('button', { type: 'button', textContent: 'Cancel' });
  const form = el('form', {}, title, description, el('button', { type: 'submit', textContent: 'Save' }), cancel);
  node.append(form);
  state.editing = taskId;
  const done = () => { state.editing = null; wsSend({ type: 'stop_typing', boardId: state.boardId }); render(); };
  form.addEventListener('input', () => typing(taskId));
  form.addEventListener('submit', e => {
    e.preventDefault();
    const changes = {
      title: title.value.trim() !== task.title ? title.value : undefined,
      description: description.value !== task.description ? description.value : undefined,
    };
    state.focusId = taskId;
    done();
    if (changes.title !== undefined || changes.description !== undefined) update(taskId, changes, task.version);
  });
  cancel.addEventListener('click', done);
  form.addEventListener('keydown', e => { if (e.key === 'Escape') done(); });
  title.focus();
}

export function typing(taskId) {
  const now = Date.now();
  if (now - (typing.last || 0) < 1000) return;
  typing.last = now;
  wsSend({ type: 'typing', boardId: state.boardId, taskId });
}

export function renderViewers() {
  const avatars = [...state.viewers.values()].map(v => {
    const a = el('span', { className: 'avatar', title: v.name + (v.userId === state.user?.id ? ' (you)' : ''), textContent: v.name.slice(0, 1).toUpperCase() });
    a.dataset.userId = v.userId;
    a.style.background = v.color;
    return a;
  });
  const more = state.viewerCount - state.viewers.size;
  if (more > 0) avatars.push(el('span', { className: 'more-viewers', textContent: `+${more}`, title: `${state.viewerCount} viewers` }));
  $('#viewers').replaceChildren(...avatars);
}

export function renderCursors() {
  boardEl.querySelectorAll('.cursor').forEach(c => c.remove());
  for (const [userId, c] of state.cursors) {
    const dot = el('div', { className: 'cursor' }, el('span', { textContent: c.name }));
    dot.dataset.userId = userId;
    dot.style.background = c.color;
    dot.firstChild.style.background = c.color;
    dot.style.left = `${c.x * boardEl.scrollWidth}px`;
    dot.style.top = `${c.y * boardEl.scrollHeight}px`;
    boardEl.append(dot);
  }
}

let lastCursor = 0;
boardEl.addEventListener('mousemove', e => {
  const now = Date.now();
  if (now - lastCursor < 50) return;
  lastCursor = now;
  const r = boardEl.getBoundingClientRect();
  const x = (e.clientX - r.left + boardEl.scrollLeft) / boardEl.scrollWidth;
  const y = (e.clientY - r.top + boardEl.scrollTop) / boardEl.scrollHeight;
  wsSend({ type: 'cursor', boardId: state.boardId, x, y });
});
