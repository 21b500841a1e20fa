// The sign-in / sign-up screen. Works on any address: username and password, the
// server's error shown with its field highlighted, a 429 saying when to retry. Where
// the server offers demo sign-ins (GET /dev/users: --demo on loopback only) they are
// listed as a convenience.

import { $, el } from './state.js';
import { api, saved } from './api.js';

const screen = $('#auth');
const form = $('#auth-form');
const error = $('#auth-error');

function showError(e) {
  form.querySelectorAll('[aria-invalid]').forEach(i => i.removeAttribute('aria-invalid'));
  let text = e.message;
  if (e.status === 429) text += e.retryAfter ? ` Try again in ${e.retryAfter} s.` : ' Try again in a minute.';
  if (!e.status) text = 'The server cannot be reached. Check the connection and try again.';
  error.textContent = text;
  error.hidden = false;
  const input = e.field && form.elements[e.field];
  if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
}

export async function showSignIn() {
  document.body.dataset.screen = 'auth';
  screen.hidden = false;
  form.elements.username.focus();
  let users = [];
  try { users = (await api('GET', '/dev/users')).users; } catch { /* not offered: not a loopback demo server */ }
  const demo = $('#demo-users');
  demo.hidden = users.length === 0;
  $('.demo-list', demo).replaceChildren(...users.map(u => {
    const b = el('button', { type: 'button', textContent: u.name });
    b.dataset.userId = u.userId;
    b.addEventListener('click', () => { saved.token = u.token; location.reload(); });
    return b;
  }));
}

form.addEventListener('submit', async e => {
  e.preventDefault();
  const signup = e.submitter?.value === 'signup';
  const body = { username: form.elements.username.value.trim(), password: form.elements.password.value };
  if (signup && form.elements.name.value.trim()) body.name = form.elements.name.value.trim();
  form.classList.add('busy');
  try {
    saved.token = ''; // a demo token would override the new session
    await api('POST', signup ? '/auth/signup' : '/auth/login', body);
    location.reload();
  } catch (err) {
    showError(err);
  } finally {
    form.classList.remove('busy');
  }
});

/// Signs out: ends the session on the server (a demo token is only forgotten here:
/// it is shared with every other demo window).
export async function signOut() {
  if (saved.token) saved.token = '';
  else await api('POST', '/auth/logout').catch(() => {});
  location.reload();
}
