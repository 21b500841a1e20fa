// Server calls. Once signed in with the form, the session cookie (HttpOnly) goes with
// every same-origin request by itself; only the demo sign-in (a token from
// /dev/users, loopback demo servers only) keeps a bearer token in localStorage.

import { hooks } from './state.js';

export const saved = {
  get token() { return localStorage.getItem('boardcast.token') || ''; },
  set token(t) {
    if (t) localStorage.setItem('boardcast.token', t); else localStorage.removeItem('boardcast.token');
    document.cookie = `boardcast_token=${t ? encodeURIComponent(t) : ''}; path=/; SameSite=Strict${t ? '' : '; Max-Age=0'}`;
  },
  queue(boardId) { return JSON.parse(localStorage.getItem(`boardcast.queue.${boardId}`) || '[]'); },
  saveQueue(boardId, queue) { localStorage.setItem(`boardcast.queue.${boardId}`, JSON.stringify(queue)); },
};

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.field = body?.error?.field;
    this.retryAfter = retryAfter;
  }
}

export async function api(method, path, body, headers = {}) {
  const h = { ...headers };
  if (saved.token) h.Authorization = `Bearer ${saved.token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    hooks.offline(true);
    throw e; // a network failure: no status
  }
  hooks.offline(false);
  if (res.status === 204) return null;
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new ApiError(res.status, json, Number(res.headers.get('Retry-After')) || undefined);
    // The session ended (signed out elsewhere, revoked): back to the sign-in screen.
    if (res.status === 401 && !path.startsWith('/auth/')) hooks.signedOut();
    throw err;
  }
  return json;
}

export const enc = encodeURIComponent;
