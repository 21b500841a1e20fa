// Live: events over SSE (or, without EventSource, over the WebSocket, or long polling),
// presence, typing and cursors over the WebSocket, and the connection badge.

import { $, state, hooks } from './state.js';
import { api, enc, saved } from './api.js';
import { applyEvent, loadBoard } from './model.js';
import { pump } from './mutations.js';
import { render, renderViewers, renderCursors } from './board.js';

export const EVENT_TYPES = ['task_created', 'task_updated', 'task_moved', 'task_deleted', 'board_created',
  'board_updated', 'board_deleted', 'list_created', 'list_updated', 'list_moved', 'list_deleted', 'member_added',
  'member_updated', 'member_removed', 'label_created', 'label_updated', 'label_deleted'];

export function setOffline(offline) {
  if (state.offline === offline) return;
  state.offline = offline;
  updateStatus();
  if (!offline) pump();
}

export function updateStatus() {
  let s = 'reconnecting';
  if (state.offline) s = 'offline';
  else if (state.polling) s = 'polling';
  else if (state.es?.readyState === 1 || (!state.es && state.ws?.readyState === 1)) s = 'live';
  const badge = $('#status');
  badge.dataset.state = s;
  badge.textContent = s;
  // A new board is created directly (the page opens it by the server's id): not while offline.
  for (const b of document.querySelectorAll('#new-board, #empty-new-board')) {
    b.disabled = state.offline;
    b.title = state.offline ? 'Offline: a new board needs the server (it gives the board its id)' : '';
  }
}

export function connectEvents() {
  if ('EventSource' in window) {
    // EventSource resumes by itself with Last-Event-ID after a drop; the first
    // connection starts after the state just loaded.
    const es = new EventSource(`/boards/${enc(state.boardId)}/events?lastEventId=${state.seq}`);
    state.es = es;
    for (const type of EVENT_TYPES) es.addEventListener(type, e => applyEvent(JSON.parse(e.data)));
    es.addEventListener('reset', () => loadBoard());
    // Signed out, a revoked credential or removed from the board: the server ends the stream.
    es.addEventListener('revoked', () => { es.close(); hooks.revoked(); });
    es.onopen = () => { setOffline(false); updateStatus(); pump(); };
    es.onerror = () => updateStatus();
  } else if (!('WebSocket' in window)) {
    pollLoop();
  }
}

async function pollLoop() {
  state.polling = true;
  updateStatus();
  for (;;) {
    try {
      const r = await api('GET', `/boards/${enc(state.boardId)}/poll?after=${state.seq}&timeout=25`);
      if (r.reset) await loadBoard(); else r.events.forEach(applyEvent);
      updateStatus();
    } catch {
      await new Promise(ok => setTimeout(ok, 2000));
    }
  }
}

export function wsSend(msg) {
  if (state.ws?.readyState === 1) state.ws.send(JSON.stringify(msg));
}

export function connectWs() {
  if (!('WebSocket' in window)) return;
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${proto}://${location.host}/ws${saved.token ? `?token=${enc(saved.token)}` : ''}`);
  state.ws = ws;
  ws.onopen = () => {
    state.wsAttempt = 0;
    ws.send(JSON.stringify({ type: 'join', boardId: state.boardId }));
    ws.send(JSON.stringify({ type: 'resume', boardId: state.boardId, afterSeq: state.seq }));
    updateStatus();
  };
  ws.onmessage = m => onWsMessage(JSON.parse(m.data));
  ws.onclose = e => {
    state.ws = null;
    state.viewers.clear();
    state.viewerCount = 0;
    state.cursors.clear();
    state.typing.clear();
    renderViewers();
    render();
    updateStatus();
    // 4401: the session ended; 4403: no longer a member. Neither is retried.
    if (e.code === 4401 || e.code === 4403) { hooks.revoked(); return; }
    // Exponential backoff with jitter, so a restarted server is not stampeded.
    const delay = Math.min(30000, 500 * 2 ** state.wsAttempt++) * (0.5 + Math.random() / 2);
    state.wsTimer = setTimeout(connectWs, delay);
  };
}

// A user_stopped_typing can be dropped (a client that falls behind loses room
// messages), while an ongoing indicator is heard again at least every 5 s (ws.proto):
// one not heard for 6 s has stopped.
const TYPING_STALE_MS = 6000;
setInterval(() => {
  const now = Date.now();
  let gone = false;
  for (const [userId, t] of state.typing) {
    if (now - t.at > TYPING_STALE_MS) { state.typing.delete(userId); gone = true; }
  }
  if (gone) render();
}, 1000);

function onWsMessage(msg) {
  switch (msg.type) {
    case 'presence':
      // The whole list (or, in a large room, its first viewers and the count).
      state.viewers = new Map(msg.viewers.map(v => [v.userId, v]));
      state.viewerCount = Math.max(msg.viewerCount || 0, state.viewers.size);
      renderViewers();
      break;
    case 'user_joined':
      if (!state.viewers.has(msg.userId)) state.viewerCount++;
      state.viewers.set(msg.userId, msg);
      renderViewers();
      break;
    case 'user_left':
      if (state.viewers.delete(msg.userId)) state.viewerCount--;
      state.cursors.delete(msg.userId);
      state.typing.delete(msg.userId);
      renderViewers();
      render();
      break;
    case 'user_typing': state.typing.set(msg.userId, { name: msg.name, taskId: msg.taskId, at: Date.now() }); render(); break;
    case 'user_stopped_typing': state.typing.delete(msg.userId); render(); break;
    case 'cursor': {
      const name = state.viewers.get(msg.userId)?.name || msg.userId;
      state.cursors.set(msg.userId, { x: msg.x, y: msg.y, color: msg.color, name });
      renderCursors();
      break;
    }
    case 'reset': loadBoard(); break;
    case 'error': console.warn('boardcast:', msg.message); break;
    default: if (EVENT_TYPES.includes(msg.type)) applyEvent(msg);
  }
}

export function disconnect() {
  state.es?.close();
  if (state.ws) { state.ws.onclose = null; state.ws.close(); }
  clearTimeout(state.wsTimer);
}
