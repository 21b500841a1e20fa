// boardcast web board: one page, no build step.
//
// What the page shows is the server's state (GET /boards/:id, then events applied in
// seq order) with this browser's pending mutations applied on top. A mutation stays
// pending from the moment it is made until its event (matched by request id) comes
// back; if the server refuses it, it is dropped — that is the rollback — and a
// message says why. Pending mutations live in localStorage, so a reload or a stretch
// offline keeps them; they are sent in order with their request id as
// Idempotency-Key, so none is applied twice.

const $ = (sel, el = document) => el.querySelector(sel);
const boardEl = $('#board');

const saved = {
  get token() { return localStorage.getItem('boardcast.token') || ''; },
  set token(t) {
    if (t) localStorage.setItem('boardcast.token', t); else localStorage.removeItem('boardcast.token');
    document.cookie = `boardcast_token=${t ? encodeURIComponent(t) : ''}; path=/; SameSite=Strict${t ? '' : '; Max-Age=0'}`;
  },
  queue(boardId) { return JSON.parse(localStorage.getItem(`boardcast.queue.${boardId}`) || '[]'); },
  saveQueue(boardId, queue) { localStorage.setItem(`boardcast.queue.${boardId}`, JSON.stringify(queue)); },
};

const state = {
  boardId: null,
  lists: [],
  tasks: new Map(),     // the server's tasks, by id
  seq: 0,               // the last event applied
  queue: [],            // pending mutations, oldest first
  me: null,
  viewers: new Map(),   // userId → viewer
  typing: new Map(),    // userId → { name, taskId }
  cursors: new Map(),   // userId → { x, y, color, name }
  editing: null,        // id of the card being edited
  focusId: null,        // card to focus after a render
  es: null, ws: null, wsAttempt: 0, wsTimer: null,
  polling: false, offline: !navigator.onLine, sending: false,
};

// ---------- server calls ----------

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

async function api(method, path, body, headers = {}) {
  const h = { ...headers };
  if (saved.token) h.Authorization = `Bearer ${saved.token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    setOffline(true);
    throw e; // a network failure: no status
  }
  setOffline(false);
  if (res.status === 204) return null;
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

// ---------- the model ----------

function inList(tasks, listId) {
  return [...tasks.values()].filter(t => t.listId === listId).sort((a, b) => a.position - b.position);
}

function renumber(ordered) {
  ordered.forEach((t, i) => { t.position = i; });
}

/// Applies one pending mutation to a copy of the tasks, as the server would.
function applyPending(tasks, op) {
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
      if (!task) return;
      Object.assign(task, {
        title: op.title ?? task.title,
        description: op.description ?? task.description,
        version: task.version + 1,
        pending: true,
      });
      break;
    case 'move': {
      if (!task) return;
      const from = inList(tasks, task.listId).filter(t => t.id !== task.id);
      renumber(from);
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

function displayed() {
  const tasks = new Map([...state.tasks].map(([id, t]) => [id, { ...t }]));
  for (const op of state.queue) applyPending(tasks, op);
  return tasks;
}

function applyEvent(ev) {
  if (ev.boardId !== state.boardId || ev.seq <= state.seq) return; // a duplicate (SSE and WS both carry events)
  if (ev.seq > state.seq + 1) { loadBoard(); return; }             // never guess across a gap
  switch (ev.type) {
    case 'task_created': case 'task_updated': case 'task_moved': state.tasks.set(ev.task.id, ev.task); break;
    case 'task_deleted': state.tasks.delete(ev.taskId); break;
    // Board, list and member events are not rendered one by one: reload the board.
    default: loadBoard(); return;
  }
  for (const p of ev.shifted || []) {
    const t = state.tasks.get(p.taskId);
    if (t) state.tasks.set(p.taskId, { ...t, listId: p.listId, position: p.position });
  }
  state.seq = ev.seq;
  if (ev.requestId) settle(ev.requestId);
  render();
}

async function loadBoard() {
  const board = await api('GET', `/boards/${encodeURIComponent(state.boardId)}`);
  state.lists = board.lists;
  state.tasks = new Map(board.tasks.map(t => [t.id, t]));
  state.seq = board.seq;
  // What the server answered for is now in its state; what it never saw is still pending.
  state.queue = state.queue.filter(op => !op.acked);
  saveQueue();
  render();
}

// ---------- mutations ----------

function saveQueue() { saved.saveQueue(state.boardId, state.queue); }

function settle(requestId) {
  const before = state.queue.length;
  state.queue = state.queue.filter(op => op.requestId !== requestId);
  if (state.queue.length !== before) saveQueue();
}

function mutate(op) {
  op.requestId = crypto.randomUUID();
  state.queue.push(op);
  saveQueue();
  render();
  pump();
}

function describe(op) {
  return { create: `Creating “${op.title}”`, update: 'Your edit', move: 'Your move', delete: 'Your delete' }[op.kind];
}

function send(op) {
  const headers = { 'Idempotency-Key': op.requestId };
  if (op.kind !== 'create') headers['If-Match'] = `"${op.version}"`;
  const path = `/tasks/${encodeURIComponent(op.taskId)}`;
  switch (op.kind) {
    case 'create': return api('POST', '/tasks', { title: op.title, listId: op.listId, position: op.position }, headers);
    case 'update': return api('PATCH', path, { title: op.title, description: op.description }, headers);
    case 'move': return api('PATCH', `${path}/move`, { listId: op.listId, position: op.position }, headers);
    case 'delete': return api('DELETE', path, undefined, headers);
  }
}

/// Sends pending mutations in order. A refused one is rolled back with a message;
/// a network failure stops the run and leaves the rest for later.
async function pump() {
  if (state.sending) return;
  state.sending = true;
  try {
    for (const op of [...state.queue]) {
      if (op.acked) continue;
      try {
        await send(op);
        op.acked = true;
        saveQueue();
      } catch (e) {
        if (!(e instanceof ApiError)) break;
        state.queue = state.queue.filter(o => o !== op);
        saveQueue();
        const conflict = e.status === 409 || e.status === 412;
        showMessage(conflict
          ? `${describe(op)} was not saved: someone changed this task first. Showing the latest version.`
          : `${describe(op)} was refused: ${e.message}`);
        if (conflict) await loadBoard().catch(() => {});
      }
    }
  } finally {
    state.sending = false;
    render();
  }
}

setInterval(() => { if (state.queue.some(op => !op.acked)) pump(); }, 3000);

function create(listId, title) {
  if (!title.trim()) { showMessage('A task needs a title.'); return; }
  mutate({ kind: 'create', listId, title: title.trim(), tempId: `pending-${crypto.randomUUID()}` });
}

function versionOf(taskId) { return displayed().get(taskId)?.version ?? 0; }

/// `version` is the one the user saw when the edit began: if anyone changed the task
/// since, the server refuses the edit instead of losing their change.
function update(taskId, title, description, version) {
  mutate({ kind: 'update', taskId, title, description, version });
}

function move(taskId, listId, position) {
  mutate({ kind: 'move', taskId, listId, position: Math.max(0, position), version: versionOf(taskId) });
}

function remove(taskId) {
  mutate({ kind: 'delete', taskId, version: versionOf(taskId) });
}

// ---------- rendering ----------

function showMessage(text) {
  const el = $('#message');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(showMessage.timer);
  showMessage.timer = setTimeout(() => { el.hidden = true; }, 10000);
}

function render() {
  const tasks = displayed();
  const scroll = boardEl.scrollLeft;
  const editingEl = state.editing && boardEl.querySelector(`[data-task-id="${CSS.escape(state.editing)}"]`);
  boardEl.querySelectorAll('.list').forEach(el => el.remove());
  for (const list of state.lists) {
    const el = $('#list-template').content.firstElementChild.cloneNode(true);
    el.dataset.listId = list.id;
    $('h2', el).textContent = list.name;
    const cards = $('.cards', el);
    for (const task of inList(tasks, list.id)) {
      cards.append(task.id === state.editing && editingEl ? editingEl : card(task));
    }
    $('.add', el).addEventListener('submit', e => {
      e.preventDefault();
      const input = e.target.elements.title;
      create(list.id, input.value);
      input.value = '';
    });
    el.addEventListener('dragover', e => e.preventDefault());
    el.addEventListener('drop', e => {
      e.preventDefault();
      const id = e.dataTransfer.getData('text/plain');
      if (id) move(id, list.id, dropIndex(cards, e.clientY, id));
    });
    boardEl.append(el);
  }
  boardEl.scrollLeft = scroll;
  if (state.focusId) {
    boardEl.querySelector(`[data-task-id="${CSS.escape(state.focusId)}"]`)?.focus();
    state.focusId = null;
  }
  renderCursors();
}

function dropIndex(cards, y, draggedId) {
  const others = [...cards.children].filter(c => c.dataset.taskId !== draggedId);
  return others.filter(c => { const r = c.getBoundingClientRect(); return r.top + r.height / 2 < y; }).length;
}

function card(task) {
  const el = document.createElement('li');
  el.className = 'card' + (task.pending ? ' pending' : '');
  el.dataset.taskId = task.id;
  el.tabIndex = 0;
  el.draggable = !task.id.startsWith('pending-');
  const title = document.createElement('div');
  title.className = 'title';
  title.textContent = task.title;
  el.append(title);
  if (task.description) {
    const d = document.createElement('div');
    d.className = 'description';
    d.textContent = task.description;
    el.append(d);
  }
  for (const [userId, t] of state.typing) {
    if (t.taskId === task.id && userId !== state.me?.userId) {
      const typing = document.createElement('div');
      typing.className = 'typing';
      typing.textContent = `${t.name} is typing…`;
      el.append(typing);
    }
  }
  if (!task.id.startsWith('pending-')) {
    const actions = document.createElement('div');
    actions.className = 'actions';
    const edit = Object.assign(document.createElement('button'), { textContent: 'Edit', title: 'Edit (Enter)' });
    edit.addEventListener('click', () => startEdit(task.id));
    const del = Object.assign(document.createElement('button'), { textContent: '✕', title: 'Delete (Delete)' });
    del.setAttribute('aria-label', 'Delete');
    del.addEventListener('click', () => remove(task.id));
    actions.append(edit, del);
    el.append(actions);
    el.addEventListener('dragstart', e => { e.dataTransfer.setData('text/plain', task.id); el.classList.add('dragging'); });
    el.addEventListener('dragend', () => el.classList.remove('dragging'));
    el.addEventListener('keydown', e => onCardKey(e, task.id));
    el.addEventListener('dblclick', () => startEdit(task.id));
  }
  return el;
}

/// Alt+↑/↓ moves a card within its list, Alt+←/→ to the next list; Enter edits, Delete deletes.
function onCardKey(e, taskId) {
  if (e.target !== e.currentTarget) return;
  const task = displayed().get(taskId);
  if (!task) return;
  const listIndex = state.lists.findIndex(l => l.id === task.listId);
  if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
    e.preventDefault();
    state.focusId = taskId;
    move(taskId, task.listId, task.position + (e.key === 'ArrowUp' ? -1 : 1));
  } else if (e.altKey && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')) {
    e.preventDefault();
    const next = state.lists[listIndex + (e.key === 'ArrowLeft' ? -1 : 1)];
    if (next) { state.focusId = taskId; move(taskId, next.id, task.position); }
  } else if (e.key === 'Enter') {
    e.preventDefault();
    startEdit(taskId);
  } else if (e.key === 'Delete') {
    e.preventDefault();
    remove(taskId);
  }
}

function startEdit(taskId) {
  const task = displayed().get(taskId);
  if (!task) return;
  state.editing = null;
  render();
  const el = boardEl.querySelector(`[data-task-id="${CSS.escape(taskId)}"]`);
  el.draggable = false;
  el.replaceChildren();
  const form = document.createElement('form');
  const title = Object.assign(document.createElement('input'), { name: 'title', value: task.title, maxLength: 200 });
  title.setAttribute('aria-label', 'Title');
  const description = Object.assign(document.createElement('textarea'), { name: 'description', value: task.description });
  description.setAttribute('aria-label', 'Description');
  const save = Object.assign(document.createElement('button'), { type: 'submit', textContent: 'Save' });
  const cancel = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Cancel' });
  form.append(title, description, save, cancel);
  el.append(form);
  state.editing = taskId;
  const done = () => { state.editing = null; wsSend({ type: 'stop_typing', boardId: state.boardId }); render(); };
  form.addEventListener('input', () => typing(taskId));
  form.addEventListener('submit', e => {
    e.preventDefault();
    const changes = [title.value.trim() !== task.title ? title.value : undefined,
                     description.value !== task.description ? description.value : undefined];
    state.focusId = taskId;
    done();
    if (changes[0] !== undefined || changes[1] !== undefined) update(taskId, changes[0], changes[1], task.version);
  });
  cancel.addEventListener('click', done);
  form.addEventListener('keydown', e => { if (e.key === 'Escape') done(); });
  title.focus();
}

function typing(taskId) {
  const now = Date.now();
  if (now - (typing.last || 0) < 1000) return;
  typing.last = now;
  wsSend({ type: 'typing', boardId: state.boardId, taskId });
}

function renderViewers() {
  const el = $('#viewers');
  el.replaceChildren(...[...state.viewers.values()].map(v => {
    const a = document.createElement('span');
    a.className = 'avatar';
    a.dataset.userId = v.userId;
    a.title = v.name + (v.userId === state.me?.userId ? ' (you)' : '');
    a.style.background = v.color;
    a.textContent = v.name.slice(0, 1).toUpperCase();
    return a;
  }));
}

function renderCursors() {
  boardEl.querySelectorAll('.cursor').forEach(c => c.remove());
  for (const [userId, c] of state.cursors) {
    const dot = document.createElement('div');
    dot.className = 'cursor';
    dot.dataset.userId = userId;
    dot.style.background = c.color;
    dot.style.left = `${c.x * boardEl.scrollWidth}px`;
    dot.style.top = `${c.y * boardEl.scrollHeight}px`;
    const label = document.createElement('span');
    label.textContent = c.name;
    label.style.background = c.color;
    dot.append(label);
    boardEl.append(dot);
  }
}

function setOffline(offline) {
  if (state.offline === offline) return;
  state.offline = offline;
  updateStatus();
  if (!offline) pump();
}

function updateStatus() {
  let s = 'reconnecting';
  if (state.offline) s = 'offline';
  else if (state.polling) s = 'polling';
  else if (state.es?.readyState === 1 || (!state.es && state.ws?.readyState === 1)) s = 'live';
  const el = $('#status');
  el.dataset.state = s;
  el.textContent = s;
}

// ---------- live: SSE, WebSocket, long polling ----------

function connectEvents() {
  if ('EventSource' in window) {
    // EventSource resumes by itself with Last-Event-ID after a drop; the first
    // connection starts after the state just loaded.
    const es = new EventSource(`/boards/${encodeURIComponent(state.boardId)}/events?lastEventId=${state.seq}`);
    state.es = es;
    for (const type of ['task_created', 'task_updated', 'task_moved', 'task_deleted', 'board_created', 'board_updated',
      'board_deleted', 'list_created', 'list_updated', 'list_moved', 'list_deleted', 'member_added', 'member_updated',
      'member_removed']) {
      es.addEventListener(type, e => applyEvent(JSON.parse(e.data)));
    }
    es.addEventListener('reset', () => loadBoard());
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
      const r = await api('GET', `/boards/${encodeURIComponent(state.boardId)}/poll?after=${state.seq}&timeout=25`);
      if (r.reset) await loadBoard(); else r.events.forEach(applyEvent);
      updateStatus();
    } catch {
      await new Promise(ok => setTimeout(ok, 2000));
    }
  }
}

function wsSend(msg) {
  if (state.ws?.readyState === 1) state.ws.send(JSON.stringify(msg));
}

function connectWs() {
  if (!('WebSocket' in window)) return;
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${proto}://${location.host}/ws${saved.token ? `?token=${encodeURIComponent(saved.token)}` : ''}`);
  state.ws = ws;
  ws.onopen = () => {
    state.wsAttempt = 0;
    ws.send(JSON.stringify({ type: 'join', boardId: state.boardId }));
    ws.send(JSON.stringify({ type: 'resume', boardId: state.boardId, afterSeq: state.seq }));
    updateStatus();
  };
  ws.onmessage = m => onWsMessage(JSON.parse(m.data));
  ws.onclose = () => {
    state.ws = null;
    state.viewers.clear();
    state.cursors.clear();
    state.typing.clear();
    renderViewers();
    render();
    updateStatus();
    // Exponential backoff with jitter, so a restarted server is not stampeded.
    const delay = Math.min(30000, 500 * 2 ** state.wsAttempt++) * (0.5 + Math.random() / 2);
    state.wsTimer = setTimeout(connectWs, delay);
  };
}

function onWsMessage(msg) {
  switch (msg.type) {
    case 'welcome': state.me = msg; break;
    case 'presence': state.viewers = new Map(msg.viewers.map(v => [v.userId, v])); renderViewers(); break;
    case 'user_joined': state.viewers.set(msg.userId, msg); renderViewers(); break;
    case 'user_left':
      state.viewers.delete(msg.userId);
      state.cursors.delete(msg.userId);
      state.typing.delete(msg.userId);
      renderViewers();
      render();
      break;
    case 'user_typing': state.typing.set(msg.userId, { name: msg.name, taskId: msg.taskId }); render(); break;
    case 'user_stopped_typing': state.typing.delete(msg.userId); render(); break;
    case 'cursor': {
      const name = state.viewers.get(msg.userId)?.name || msg.userId;
      state.cursors.set(msg.userId, { x: msg.x, y: msg.y, color: msg.color, name });
      renderCursors();
      break;
    }
    case 'reset': loadBoard(); break;
    case 'task_created': case 'task_updated': case 'task_moved': case 'task_deleted':
    case 'board_created': case 'board_updated': case 'board_deleted': case 'list_created': case 'list_updated':
    case 'list_moved': case 'list_deleted': case 'member_added': case 'member_updated': case 'member_removed':
      applyEvent(msg); break;
    case 'error': console.warn('boardcast:', msg.message); break;
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

// ---------- start ----------

async function signIn() {
  const picker = $('#user-picker');
  let users = [];
  try { users = (await api('GET', '/dev/users')).users; } catch { /* not offered off loopback */ }
  picker.replaceChildren(new Option('Guest', ''), ...users.map(u => new Option(u.name, u.token)));
  picker.value = saved.token;
  if (picker.value !== saved.token) picker.value = '';
  $('#signin').hidden = users.length === 0;
  picker.addEventListener('change', () => { saved.token = picker.value; location.reload(); });
}

async function start() {
  saved.token = saved.token; // refresh the cookie the event stream carries
  await signIn();
  const { boards } = await api('GET', '/boards');
  const picker = $('#board-picker');
  picker.replaceChildren(...boards.map(b => new Option(b.name, b.id)));
  const wanted = decodeURIComponent(location.hash.slice(1));
  state.boardId = boards.some(b => b.id === wanted) ? wanted : boards[0]?.id;
  picker.value = state.boardId;
  picker.addEventListener('change', () => { location.hash = picker.value; location.reload(); });
  if (!state.boardId) { showMessage('You are not a member of any board.'); return; }
  state.queue = saved.queue(state.boardId);
  await loadBoard();
  connectEvents();
  connectWs();
  pump();
  updateStatus();
}

window.addEventListener('online', () => setOffline(false));
window.addEventListener('offline', () => setOffline(true));
start().catch(e => showMessage(`Could not load the board: ${e.message}`));
