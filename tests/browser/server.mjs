// Starts the real tm-server ($TM_SERVER) on 127.0.0.1, port 0, and stops it
// with SIGTERM, for the tests in this folder.
import { spawn } from 'node:child_process';

// Resolves to {proc, url} once the server prints "listening on URL".
export function startServer(db) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.env.TM_SERVER, ['--db', db, '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let up = false;
    const timer = setTimeout(() => reject(new Error(`tm-server did not start in 30 s:\n${out}`)), 30_000);
    const look = (chunk) => {
      if (up) return;
      out += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        up = true;
        clearTimeout(timer);
        resolve({ proc: p, url: m[1] });
      }
    };
    p.stdout.setEncoding('utf8').on('data', look);
    p.stderr.setEncoding('utf8').on('data', look);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!up) reject(new Error(`tm-server exited (${code ?? signal}):\n${out}`));
    });
  });
}

// SIGTERM, then how P ended within 10 s: {code, signal}; null when it had
// to be killed.
export async function stopServer(p) {
  if (!p) return null;
  if (p.exitCode !== null || p.signalCode !== null) return { code: p.exitCode, signal: p.signalCode };
  const exited = new Promise((r) => p.once('exit', (code, signal) => r({ code, signal })));
  p.kill('SIGTERM');
  let timer;
  const res = await Promise.race([exited, new Promise((r) => { timer = setTimeout(() => r(null), 10_000); })]);
  clearTimeout(timer);
  if (!res) p.kill('SIGKILL');
  return res;
}
