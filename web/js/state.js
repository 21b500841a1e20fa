// The page's state, shared by the modules, and a few DOM helpers.

export const $ = (sel, el = document) => el.querySelector(sel);

export const state = {
  user: null,           // GET /me
  boards: [],
  board: null,          // the open board
  boardId: null,
  members: [],
  labels: [],
  lists: [],            // the server's lists
  tasks: new Map(),     // the server's tasks, by id
  seq: 0,               // the last event applied
  queue: [],            // pending mutations, oldest first
  viewers: new Map(),   // userId → viewer
  viewerCount: 0,       // every viewer of the room; a large room lists only some
  typing: new Map(),    // userId → { name, taskId, at: when last heard (ms) }
  cursors: new Map(),   // userId → { x, y, color, name }
  editing: null,        // id of the card being edited in place
  focusId: null,        // card (or list) to focus after a render
  es: null, ws: null, wsAttempt: 0, wsTimer: null,
  polling: false, offline: !navigator.onLine, sending: false,
};

/// Late-bound calls between modules (set by app.js), so no module imports in a circle at start-up.
export const hooks = {
  offline: () => {},
  signedOut: () => {},
  render: () => {},
  changed: () => {},    // after any event: panels refresh what they show
  revoked: () => {},    // the server ended this identity's streams
  boardGone: () => {},  // the open board was deleted, or this user removed from it
  refused: () => {},    // (op, text): the server refused a queued mutation (it was rolled back)
};

export function role() {
  return state.members.find(m => m.userId === state.user?.id)?.role;
}

/// Owners and editors change the board; viewers (and everyone on an archived board) only read it.
export function canEdit() {
  const r = role();
  return (r === 'owner' || r === 'editor') && !archived();
}

/// Whether the open board is archived, counting this browser's pending (un)archive.
export function archived() {
  const pending = state.queue.filter(op => op.kind === 'board-update' && op.changes?.archived !== undefined).at(-1);
  return pending ? pending.changes.archived : !!state.board?.archived;
}

export function isOwner() { return role() === 'owner'; }

export function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children.filter(c => c !== null && c !== undefined && c !== false));
  return e;
}

export function showMessage(text, kind = 'error') {
  const m = $('#message');
  m.textContent = text;
  m.dataset.kind = kind;
  m.hidden = false;
  clearTimeout(showMessage.timer);
  showMessage.timer = setTimeout(() => { m.hidden = true; }, 10000);
}

export function memberName(userId) {
  return state.members.find(m => m.userId === userId)?.name || userId;
}
