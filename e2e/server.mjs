// Starts the boardcast binary on an ephemeral loopback port with a fresh in-memory
// database, and reads its address and dev tokens from the start-up log.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function startServer() {
  const binary = process.env.BOARDCAST_BIN || path.join(root, 'target', 'debug', 'boardcast');
  const child = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--database-url', 'sqlite::memory:'], {
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
      const token = line.match(/dev token for (\w+): (\S+)/);
      if (token) tokens[token[1]] = token[2];
      if (token && token[1] === 'carol') { clearTimeout(timer); resolve(); }
    });
  });
  return { url, tokens, stop: () => child.kill('SIGTERM') };
}
