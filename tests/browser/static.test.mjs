// How tm-server serves the booth page's files (embedded from server/web/):
// Content-Types, caching (ETag, 304), gzip, the CSP, and no way out of the
// page's folder.  Needs only Node.js; started by run.mjs --suite static.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { startServer, stopServer } from './server.mjs';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'server', 'web');
let tmp;
let proc;
let port;

// A request with PATH sent exactly as written (no normalisation of "..").
function get(p, headers = {}, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-static-'));
  const s = await startServer(path.join(tmp, 'tm.sqlite'));
  proc = s.proc;
  port = Number(new URL(s.url).port);
});

after(async () => {
  await stopServer(proc);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('/ is index.html, with the CSP', async () => {
  const r = await get('/');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(r.headers['content-security-policy'], /default-src 'self'/);
  assert.match(r.headers['x-content-type-options'], /nosniff/);
  assert.deepEqual(r.body, fs.readFileSync(path.join(web, 'index.html')));
  const q = await get('/?q=%E3%85%88%E3%85%88%E3%85%8D%E3%84%B9');
  assert.equal(q.status, 200);
  assert.deepEqual(q.body, r.body);
});

test('every file of server/web/ is served with its Content-Type', async () => {
  const types = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
    '.html': 'text/html; charset=utf-8', '.svg': 'image/svg+xml' };
  const files = fs.readdirSync(web).filter((f) => f !== 'meson.build' && !f.startsWith('.'));
  assert.ok(files.includes('app.js'));
  for (const f of files) {
    const r = await get(`/web/${f}`);
    assert.equal(r.status, 200, f);
    assert.equal(r.headers['content-type'], types[path.extname(f)], f);
    assert.deepEqual(r.body, fs.readFileSync(path.join(web, f)), `${f}: the bytes of the source tree`);
  }
});

test('ETag and Cache-Control; If-None-Match gives 304', async () => {
  const r = await get('/web/app.js');
  const etag = r.headers.etag;
  assert.match(etag, /^"[0-9a-f-]+"$/);
  assert.match(r.headers['cache-control'], /no-cache/);
  const again = await get('/web/app.js', { 'If-None-Match': etag });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  assert.equal(again.headers.etag, etag);
  const other = await get('/web/app.js', { 'If-None-Match': '"something-else"' });
  assert.equal(other.status, 200);
  const head = await get('/web/style.css', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
});

test('gzip for clients that accept it, with its own ETag', async () => {
  const plain = await get('/web/app.js');
  const gz = await get('/web/app.js', { 'Accept-Encoding': 'gzip, deflate' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.match(gz.headers.vary || '', /Accept-Encoding/i);
  assert.notEqual(gz.headers.etag, plain.headers.etag);
  assert.ok(gz.body.length < plain.body.length);
  assert.deepEqual(zlib.gunzipSync(gz.body), plain.body);
  const refused = await get('/web/app.js', { 'Accept-Encoding': 'gzip;q=0, identity' });
  assert.equal(refused.headers['content-encoding'], undefined);
  assert.deepEqual(refused.body, plain.body);
});

test('no way out of the folder: .., encoded .., absolute paths, backslashes', async () => {
  for (const p of ['/web/../README.md', '/web/%2e%2e/README.md', '/web/%2E%2E/%2e%2e/etc/passwd',
    '/web/..%2fREADME.md', '/web/%252e%252e/README.md', '/web//etc/passwd', '/web/%2fetc%2fpasswd',
    '/web/.%2e/meson.build', '/web/./app.js', '/web/..\\README.md', '/web/%5c..%5cREADME.md',
    '/web/app.js%00.png']) {
    const r = await get(p);
    assert.ok(r.status === 400 || r.status === 404, `${p}: ${r.status}`);
    assert.match(r.headers['content-type'], /^application\/json/, p);
    const e = JSON.parse(r.body.toString()).error;
    assert.equal(e.status, r.status, p);
  }
  for (const p of ['/web/meson.build', '/web/nope.js', '/web/', '/web']) {
    const r = await get(p);
    assert.equal(r.status, 404, p);
  }
});

test('only GET and HEAD', async () => {
  const r = await get('/web/app.js', { 'Content-Length': '0' }, 'POST');
  assert.equal(r.status, 405);
  assert.match(r.headers.allow, /GET/);
});
