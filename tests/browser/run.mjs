#!/usr/bin/env node
// Runs the booth page's browser tests (booth.test.mjs) as one meson test.
//
//   node tests/browser/run.mjs [--suite browser|static] \
//        --server build/server/tm-server --cli build/cli/tm
//
// --suite static (static.test.mjs) checks how tm-server serves the page's
// files and needs nothing but Node.js.  --suite browser (the default,
// booth.test.mjs) sets up what it needs and says why when it cannot:
// installs the npm packages (playwright-core, pinned in package-lock.json,
// no browser download) when node_modules is missing, and needs Debian's
// Chromium (scripts/deps.sh test installs it).  Exit status: node --test's,
// or 77 (skipped, with the reason on stdout as TAP) when a prerequisite is
// missing.  Prints TAP.
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function arg(name, env) {
  const i = process.argv.indexOf(name);
  if (i > 0 && process.argv[i + 1]) return path.resolve(process.argv[i + 1]);
  return process.env[env] ? path.resolve(process.env[env]) : '';
}

function skip(reason) {
  console.log(`1..0 # SKIP ${reason}`);
  process.exit(77);
}

const si = process.argv.indexOf('--suite');
const suite = si > 0 ? process.argv[si + 1] : 'browser';
if (suite !== 'browser' && suite !== 'static') {
  console.error(`run.mjs: unknown suite ${suite}`);
  process.exit(2);
}
const server = arg('--server', 'TM_SERVER');
const cli = arg('--cli', 'TM_CLI');
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';

const major = Number(process.versions.node.split('.')[0]);
if (suite === 'browser' && major < 20) skip(`Node.js ${process.versions.node} is too old: playwright-core needs 20 or later`);
if (!server || !fs.existsSync(server)) skip(`tm-server not built (${server || 'no --server given'})`);
if (!cli || !fs.existsSync(cli)) skip(`tm not built (${cli || 'no --cli given'})`);
if (suite === 'browser' && !fs.existsSync(chromium)) skip(`${chromium} is missing: install Debian's chromium (scripts/deps.sh test does)`);

// npm ci once; a lock directory keeps two builds' test runs from racing.
function ensureModules() {
  const marker = path.join(here, 'node_modules', 'playwright-core', 'package.json');
  if (fs.existsSync(marker)) return;
  const lock = path.join(here, '.npm-install.lock');
  const until = Date.now() + 300_000;
  for (;;) {
    try { fs.mkdirSync(lock); break; } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      if (Date.now() > until) skip('timed out waiting for another npm install in tests/browser');
      spawnSync('sleep', ['1']);
    }
  }
  try {
    if (fs.existsSync(marker)) return;
    const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: here,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
      timeout: 300_000,
    });
    if (npm.error || npm.status !== 0) {
      const why = (npm.error ? npm.error.message : npm.stderr).trim().split('\n').slice(-1)[0];
      skip(`npm ci in tests/browser failed: ${why}`);
    }
  } finally {
    fs.rmdirSync(lock);
  }
}
if (suite === 'browser') ensureModules();

const child = spawn(process.execPath,
  ['--test', '--test-reporter=tap', path.join(here, suite === 'browser' ? 'booth.test.mjs' : 'static.test.mjs')], {
    stdio: 'inherit',
    env: { ...process.env, TM_SERVER: server, TM_CLI: cli, CHROMIUM: chromium },
  });
child.on('exit', (code, signal) => process.exit(signal ? 1 : code));
