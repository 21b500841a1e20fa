// The members dialog: who is on the board and with which role; owners invite by
// username, change roles and remove members. Changes go through the mutation queue:
// shown at once (marked pending), settled by their events, rolled back when refused.

import { $, state, el, isOwner } from './state.js';
import { shownBoard, shownMembers } from './model.js';
import { addMember, changeRole, removeMember } from './mutations.js';

const dialog = $('#members-dialog');
const ROLES = ['owner', 'editor', 'viewer'];

export function openMembers() {
  renderMembers(true);
  dialog.showModal();
}

function roleSelect(value, label) {
  const s = el('select', { name: 'role' });
  s.append(...ROLES.map(r => new Option(r, r)));
  s.value = value;
  s.setAttribute('aria-label', label);
  return s;
}

/// A refused member change (rolled back), said in the dialog as well as in the page's message.
export function showMembersError(text) {
  const error = $('.dialog-error', dialog);
  if (!error) return;
  error.textContent = text;
  error.hidden = false;
}

function clearError() {
  const error = $('.dialog-error', dialog);
  if (error) error.hidden = true;
}

/// Rebuilds the dialog while it is open (or when opening it, `force`).
export function renderMembers(force = false) {
  if (!dialog.open && !force) return;
  const owner = isOwner();
  const rows = shownMembers().map(m => {
    const you = m.userId === state.user?.id ? ' (you)' : '';
    const row = el('li', { className: 'member' + (m.pending ? ' pending' : '') },
      el('span', { className: 'who', textContent: `${m.name}${you}` }),
      el('span', { className: 'username', textContent: `@${m.username}` }));
    row.dataset.userId = m.userId;
    if (m.pending) row.title = 'Not saved yet: waiting for the server';
    // An invitation not yet answered has no user id to change or remove.
    const invited = m.userId.startsWith('pending-');
    if (owner) {
      const select = roleSelect(m.role, `Role of ${m.username}`);
      select.disabled = invited;
      select.addEventListener('change', () => { clearError(); changeRole(m.userId, select.value); });
      const removeButton = el('button', { type: 'button', textContent: 'Remove', disabled: invited });
      removeButton.addEventListener('click', () => { clearError(); removeMember(m.userId); });
      row.append(select, removeButton);
    } else {
      row.append(el('span', { className: 'role', textContent: m.role }));
    }
    return row;
  });
  const body = [el('h3', { textContent: `Members of “${shownBoard()?.name}”` }), el('ul', { className: 'members' }, ...rows)];
  if (owner) {
    const username = el('input', { name: 'username', placeholder: 'username', required: true, autocomplete: 'off' });
    username.setAttribute('aria-label', 'Username to invite');
    const invite = el('form', { className: 'invite' }, username, roleSelect('editor', 'Role for the invitation'),
      el('button', { type: 'submit', className: 'primary', textContent: 'Invite' }));
    invite.addEventListener('submit', e => {
      e.preventDefault();
      clearError();
      const name = username.value;
      username.value = '';
      addMember(name, invite.elements.role.value);
    });
    body.push(invite);
  }
  const close = el('button', { type: 'button', textContent: 'Close' });
  close.addEventListener('click', () => dialog.close());
  body.push(el('p', { className: 'dialog-error', role: 'alert', hidden: true }), el('div', { className: 'buttons' }, close));
  const keep = $('.dialog-error', dialog);
  // Rebuilt on every render: what the owner is typing into the invitation stays.
  const typing = $('.invite input', dialog);
  const focused = typing && document.activeElement === typing;
  dialog.replaceChildren(...body);
  if (typing && $('.invite input', dialog)) {
    $('.invite input', dialog).value = typing.value;
    if (focused) $('.invite input', dialog).focus();
  }
  if (keep && !keep.hidden) { $('.dialog-error', dialog).textContent = keep.textContent; $('.dialog-error', dialog).hidden = false; }
}
