// Starts the boardcast binary with the demo data on an ephemeral loopback port with a
// fresh in-memory database, reads its address from the start-up log, and takes the
// demo users' session tokens from `GET /dev/users` (what the page's sign-in uses).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/// `args` are added to the command line (e.g. `['--guests', 'false']`: what any non-loopback address gets).
export async function startServer(args = []) {
  const binary = process.env.BOARDCAST_BIN || path.join(root, 'target', 'debug', 'boardcast');
  const child = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--database-url', 'sqlite::memory:', '--demo', ...args], {
    env: { ...process.env, RUST_LOG: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const tokens = {};
  let url;
  const lines = createInterface({ input: child.stdout });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 20 s')), 20000);
    child.on('exit', code => reject(new Error(`server exited with ${code}`)));
    lines.on('line', line => {
      const listening = line.match(/listening on (\S+)/);
      if (listening) url = `http://${listening[1]}`;
      if (line.includes('accounts: ')) { clearTimeout(timer); resolve(); }
    });
  });
  const devUsers = await fetch(`${url}/dev/users`);
  if (devUsers.ok) for (const u of (await devUsers.json()).users) tokens[u.userId] = u.token;
  return { url, tokens, stop: () => child.kill('SIGTERM') };
}
