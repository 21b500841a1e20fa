// The members dialog: who is on the board and with which role; owners invite by
// username, change roles and remove members. Changes arrive back as events.

import { $, state, el, isOwner } from './state.js';
import { api, enc } from './api.js';

const dialog = $('#members-dialog');
const ROLES = ['owner', 'editor', 'viewer'];

export function openMembers() {
  renderMembers();
  dialog.showModal();
}

function roleSelect(value, label) {
  const s = el('select', { name: 'role' });
  s.append(...ROLES.map(r => new Option(r, r)));
  s.value = value;
  s.setAttribute('aria-label', label);
  return s;
}

async function call(method, path, body) {
  const error = $('.dialog-error', dialog);
  error.hidden = true;
  try {
    await api(method, path, body);
    return true;
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
    return false;
  }
}

export function renderMembers() {
  if (!dialog.open && dialog.dataset.built) return;
  dialog.dataset.built = '1';
  const owner = isOwner();
  const base = `/boards/${enc(state.boardId)}/members`;
  const rows = state.members.map(m => {
    const you = m.userId === state.user?.id ? ' (you)' : '';
    const row = el('li', { className: 'member' }, el('span', { className: 'who', textContent: `${m.name}${you}` }),
      el('span', { className: 'username', textContent: `@${m.username}` }));
    row.dataset.userId = m.userId;
    if (owner) {
      const select = roleSelect(m.role, `Role of ${m.username}`);
      select.addEventListener('change', () => call('PATCH', `${base}/${enc(m.userId)}`, { role: select.value }));
      const removeButton = el('button', { type: 'button', textContent: 'Remove' });
      removeButton.addEventListener('click', () => call('DELETE', `${base}/${enc(m.userId)}`));
      row.append(select, removeButton);
    } else {
      row.append(el('span', { className: 'role', textContent: m.role }));
    }
    return row;
  });
  const body = [el('h3', { textContent: `Members of “${state.board?.name}”` }), el('ul', { className: 'members' }, ...rows)];
  if (owner) {
    const username = el('input', { name: 'username', placeholder: 'username', required: true, autocomplete: 'off' });
    username.setAttribute('aria-label', 'Username to invite');
    const invite = el('form', { className: 'invite' }, username, roleSelect('editor', 'Role for the invitation'),
      el('button', { type: 'submit', className: 'primary', textContent: 'Invite' }));
    invite.addEventListener('submit', async e => {
      e.preventDefault();
      const ok = await call('POST', base, { username: username.value.trim(), role: invite.elements.role.value });
      if (ok) username.value = '';
    });
    body.push(invite);
  }
  const close = el('button', { type: 'button', textContent: 'Close' });
  close.addEventListener('click', () => dialog.close());
  body.push(el('p', { className: 'dialog-error', role: 'alert', hidden: true }), el('div', { className: 'buttons' }, close));
  const keep = $('.dialog-error', dialog);
  dialog.replaceChildren(...body);
  if (keep && !keep.hidden) { $('.dialog-error', dialog).textContent = keep.textContent; $('.dialog-error', dialog).hidden = false; }
}
