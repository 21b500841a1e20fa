// The contract over gRPC-Web from a real client: @connectrpc/connect-node's gRPC-Web
// transport over HTTP/1.1 (what a browser without h2 uses), with the stubs in gen/
// (`buf generate`, buf.gen.yaml). Unary calls, Subscribe, error codes, and the CORS
// preflight a browser would send first. One server for the file (in-memory, --demo),
// allowing one other origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-node';
import { BoardService } from './gen/boardcast/v1/service_pb.js';
import { SubscribeRequestSchema } from './gen/boardcast/v1/service_pb.js';
import { startServer } from './server.mjs';

const ALLOWED = 'https://app.example';

let server;
let client;

before(async () => {
  server = await startServer(['--allowed-origins', ALLOWED]);
  const transport = createGrpcWebTransport({ baseUrl: server.url, httpVersion: '1.1' });
  client = createClient(BoardService, transport);
});
after(() => server?.stop());

const as = user => ({ headers: { authorization: `Bearer ${server.tokens[user]}` } });

test('a unary call returns the seeded board', async () => {
  const board = await client.getBoard({ boardId: 'board-1' }, as('alice'));
  assert.equal(board.board.name, 'Launch');
  assert.deepEqual(board.lists.map(l => l.id), ['list-todo', 'list-doing', 'list-done']);
  assert.equal(board.tasks.length, 5);
  const tasks = await client.listTasks({ boardId: 'board-1', listId: 'list-todo' }, as('bob'));
  assert.ok(tasks.tasks.length > 0);
  assert.ok(tasks.tasks.every(t => t.listId === 'list-todo'));
  const boards = await client.listBoards({}, as('carol'));
  assert.deepEqual(boards.boards.map(b => b.id), ['board-2']);
});

test('Subscribe receives the writes made during the test, in order, with exact seqs', async () => {
  const { seq: start } = await client.getBoard({ boardId: 'board-1' }, as('alice'));
  const abort = new AbortController();
  // From the board's seq now: each write below arrives once, whether from the log or live.
  const request = create(SubscribeRequestSchema, { boardId: 'board-1', afterSeq: start });
  const stream = client.subscribe(request, { ...as('bob'), signal: abort.signal });
  const received = [];
  const reading = (async () => {
    try {
      for await (const response of stream) {
        assert.equal(response.message.case, 'event', `an event, not ${response.message.case}`);
        received.push(response.message.value);
        if (received.length === 3) abort.abort();
      }
    } catch (e) {
      if (!(e instanceof ConnectError && e.code === Code.Canceled)) throw e;
    }
  })();
  const created = await client.createTask({ listId: 'list-todo', title: 'over gRPC-Web' }, as('alice'));
  const moved = await client.moveTask({ taskId: created.task.id, listId: 'list-done', position: 0 }, as('alice'));
  const deleted = await client.deleteTask({ taskId: created.task.id }, as('bob'));
  await Promise.race([
    reading,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${received.length} events in 10 s`)), 10000)),
  ]);
  assert.deepEqual(received.map(e => e.seq), [start + 1n, start + 2n, start + 3n]);
  assert.deepEqual([created.seq, moved.seq, deleted.seq], [start + 1n, start + 2n, start + 3n]);
  assert.deepEqual(received.map(e => e.payload.case), ['taskCreated', 'taskMoved', 'taskDeleted']);
  assert.equal(received[0].payload.value.task.title, 'over gRPC-Web');
  assert.equal(received[1].payload.value.task.listId, 'list-done');
  assert.equal(received[2].payload.value.taskId, created.task.id);
});

async function code(call) {
  try {
    await call();
  } catch (e) {
    assert.ok(e instanceof ConnectError, String(e));
    return [e.code, e.rawMessage];
  }
  assert.fail('the call succeeded');
}

test('errors map to their Connect codes', async () => {
  const [notFound, message] = await code(() => client.getBoard({ boardId: 'no-such-board' }, as('alice')));
  assert.equal(notFound, Code.NotFound);
  assert.match(message, /no-such-board/);
  const [invalid, why] = await code(() => client.createTask({ listId: 'list-todo', title: '  ' }, as('alice')));
  assert.equal(invalid, Code.InvalidArgument);
  assert.match(why, /title/);
  const [denied] = await code(() => client.createTask({ listId: 'list-todo', title: 'x' }, as('carol')));
  assert.equal(denied, Code.NotFound, 'a non-member is told the board does not exist');
  const [unauthenticated] = await code(() =>
    client.getBoard({ boardId: 'board-1' }, { headers: { authorization: 'Bearer bc_not-a-token' } }));
  assert.equal(unauthenticated, Code.Unauthenticated);
});

/// An OPTIONS preflight for GetBoard as a browser sends it (Node's fetch would not let
/// a page set Origin; a raw request does).
function preflight(origin) {
  const url = new URL('/boardcast.v1.BoardService/GetBoard', server.url);
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-grpc-web,x-user-agent',
      },
    }, res => { res.resume(); res.on('end', () => resolve(res)); });
    req.on('error', reject);
    req.end();
  });
}

test('a preflight from the allowed origin gets the CORS headers, from another origin none', async () => {
  const ok = await preflight(ALLOWED);
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.headers['access-control-allow-origin'], ALLOWED);
  assert.equal(ok.headers['access-control-allow-methods'], 'POST');
  for (const h of ['authorization', 'content-type', 'x-grpc-web', 'x-user-agent', 'grpc-timeout']) {
    assert.ok(ok.headers['access-control-allow-headers'].includes(h), h);
  }
  assert.equal(ok.headers['access-control-allow-credentials'], undefined);

  const refused = await preflight('https://evil.example');
  assert.equal(refused.statusCode, 403);
  assert.deepEqual(Object.keys(refused.headers).filter(h => h.startsWith('access-control-')), []);
});

test('a call from the allowed origin exposes the gRPC status to the page', async () => {
  let seen;
  const transport = createGrpcWebTransport({
    baseUrl: server.url,
    httpVersion: '1.1',
    interceptors: [next => async req => {
      req.header.set('origin', ALLOWED);
      const res = await next(req);
      seen = res.header;
      return res;
    }],
  });
  const board = await createClient(BoardService, transport).getBoard({ boardId: 'board-1' }, as('alice'));
  assert.equal(board.board.id, 'board-1');
  assert.equal(seen.get('access-control-allow-origin'), ALLOWED);
  for (const h of ['grpc-status', 'grpc-message', 'grpc-status-details-bin']) {
    assert.ok(seen.get('access-control-expose-headers').includes(h), h);
  }
});
