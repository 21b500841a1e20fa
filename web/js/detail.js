// The card detail panel: title, description, assignees, labels and due date.

import { $, state, el, canEdit } from './state.js';
import { displayed, shownLabels } from './model.js';
import { update, createLabel } from './mutations.js';

const panel = $('#detail');
let shown = null; // { taskId, version, dirty }

export function openDetail(taskId) {
  shown = { taskId, version: null, dirty: false };
  refreshDetail();
  panel.hidden = false;
  $('input[name="title"], h3', panel)?.focus();
}

export function closeDetail() {
  panel.hidden = true;
  shown = null;
}

/// After an event: rebuild the panel when its task changed and the user has not started editing.
export function refreshDetail() {
  if (!shown) return;
  const task = displayed().tasks.get(shown.taskId);
  if (!task) { closeDetail(); return; }
  if (shown.dirty || (shown.version === task.version && !panel.hidden)) {
    if (shown.dirty && shown.version !== task.version) $('.stale', panel).hidden = false;
    return;
  }
  shown.version = task.version;
  panel.replaceChildren(build(task));
}

function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

function checkbox(name, value, checked, text, color, disabled) {
  const box = el('input', { type: 'checkbox', name, value, checked, disabled });
  const label = el('label', { className: 'check' }, box, el('span', { textContent: text }));
  if (color) label.lastChild.style.background = color;
  if (color) label.lastChild.className = 'label';
  return label;
}

function build(task) {
  const editable = canEdit();
  const form = el('form', { className: 'detail-form' });
  const close = el('button', { type: 'button', textContent: '✕', className: 'close', title: 'Close (Escape)' });
  close.setAttribute('aria-label', 'Close');
  close.addEventListener('click', closeDetail);
  form.append(el('div', { className: 'panel-head' }, el('h3', { textContent: 'Card', tabIndex: -1 }), close));
  form.append(el('p', { className: 'stale', hidden: true, textContent: 'Someone else changed this card; saving will be refused. Close and reopen to see their change.' }));
  form.append(el('label', {}, 'Title', el('input', { name: 'title', value: task.title, maxLength: 200, required: true, disabled: !editable })));
  form.append(el('label', {}, 'Description', el('textarea', { name: 'description', value: task.description || '', disabled: !editable })));
  const assignees = el('fieldset', {}, el('legend', { textContent: 'Assignees' }));
  for (const m of state.members) {
    assignees.append(checkbox('assigneeIds', m.userId, (task.assigneeIds || []).includes(m.userId), m.name, null, !editable));
  }
  form.append(assignees);
  form.append(labelsField(task, editable));
  form.append(el('label', {}, 'Due', el('input', { type: 'datetime-local', name: 'dueAt', value: toLocalInput(task.dueAt), disabled: !editable })));
  if (editable) form.append(el('div', { className: 'buttons' }, el('button', { type: 'submit', className: 'primary', textContent: 'Save' })));
  form.addEventListener('input', () => { shown.dirty = true; });
  form.addEventListener('keydown', e => { if (e.key === 'Escape') closeDetail(); });
  form.addEventListener('submit', e => { e.preventDefault(); save(task, form); });
  return form;
}

function labelsField(task, editable) {
  const set = el('fieldset', { className: 'labels' }, el('legend', { textContent: 'Labels' }));
  for (const l of shownLabels()) set.append(checkbox('labelIds', l.id, (task.labelIds || []).includes(l.id), l.name, l.color, !editable));
  if (editable) {
    const name = el('input', { placeholder: 'New label', maxLength: 50, className: 'label-name' });
    name.setAttribute('aria-label', 'New label name');
    const color = el('input', { type: 'color', value: '#61bd4f', className: 'label-color' });
    color.setAttribute('aria-label', 'New label colour');
    const add = el('button', { type: 'button', textContent: 'Add label' });
    const row = el('div', { className: 'new-label' }, name, color, add);
    add.addEventListener('click', () => {
      // The label is queued (shown at once, with a client-side id); a card update saved
      // after it is queued behind it and sent with the server's id. A label made from a
      // card goes on that card; the panel is not rebuilt while edited, so it is added here.
      const id = createLabel(name.value, color.value.toLowerCase());
      if (!id) return;
      const box = checkbox('labelIds', id, true, name.value.trim(), color.value.toLowerCase(), false);
      box.classList.add('pending');
      set.insertBefore(box, row);
      name.value = '';
      shown.dirty = true;
    });
    set.append(row);
  }
  return set;
}

function sameSet(a = [], b = []) {
  return a.length === b.length && a.every(x => b.includes(x));
}

function save(task, form) {
  const data = new FormData(form);
  const changes = {};
  if (data.get('title').trim() !== task.title) changes.title = data.get('title').trim();
  if (data.get('description') !== (task.description || '')) changes.description = data.get('description');
  const assigneeIds = data.getAll('assigneeIds');
  if (!sameSet(assigneeIds, task.assigneeIds)) changes.assigneeIds = assigneeIds;
  const labelIds = data.getAll('labelIds');
  if (!sameSet(labelIds, task.labelIds)) changes.labelIds = labelIds;
  const due = data.get('dueAt') ? new Date(data.get('dueAt')).toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
  if (due !== (task.dueAt ?? null) && toLocalInput(due) !== toLocalInput(task.dueAt)) changes.dueAt = due;
  closeDetail();
  if (Object.keys(changes).length) update(task.id, changes, task.version);
}
