// Time to a usable dashboard over a large programme: seeds N generated responses with
// `rapport demo-seed` into a fresh SQLite file, serves it, signs in as each role in headless
// Chromium, and measures from navigation to the CRQ pyramid being visible, over several
// loads. Also reports the server's own time to the full page (one request, no browser),
// the first request after start apart.
//
// Usage: node bench/dashboard/run.mjs [responses=100000] [loads=5]
// Needs a release build (`cargo build --release -p rapport-server`) or RAPPORT_BIN.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startServer, launch, rapportBin } from '../../tests/e2e/support.mjs';

const responses = Number(process.argv[2] || 100000);
const loads = Number(process.argv[3] || 5);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const server = await startServer();
const seedStart = performance.now();
const seeded = execFileSync(rapportBin, ['demo-seed', '--responses', String(responses), '--database-url', server.databaseUrl, '--identity-key-file', path.join(server.dir, 'identity.key')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
const seedSeconds = (performance.now() - seedStart) / 1000;
const tokens = Object.fromEntries(seeded.trim().split('\n').map((line) => { const [role, , token] = line.trim().split(/\s+/); return [role, token]; }));

const browser = await launch();
const rows = [];
try {
  for (const role of ['admin', 'account', 'viewer']) {
    // Sign in as the dashboard's form does: the session cookie is a random id the server
    // gives back, never the token. Signing in renders no page, so the first page request
    // below is still the first after the start.
    const login = await fetch(`${server.url}/dashboard/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(tokens[role])}`,
      redirect: 'manual',
    });
    const session = (login.headers.get('set-cookie') || '').split(';')[0];
    if (login.status !== 303 || !session.startsWith('rapport_session=')) {
      throw new Error(`signing in as ${role} failed: HTTP ${login.status}`);
    }
    // The server alone: one request for the whole page.
    const serverTimes = [];
    let bytes = 0;
    for (let load = 0; load < loads; load++) {
      const start = performance.now();
      const response = await fetch(`${server.url}/dashboard`, { headers: { cookie: session } });
      const page = await response.text();
      if (!page.includes('id="pyramid-chart"')) throw new Error(`the ${role} page has no pyramid`);
      bytes = page.length;
      serverTimes.push(performance.now() - start);
    }
    // The browser: navigation until the pyramid is visible, signed in.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/dashboard`);
    await page.fill('#token', tokens[role]);
    await Promise.all([page.waitForURL(`${server.url}/dashboard`), page.click('.login-form button')]);
    const browserTimes = [];
    for (let load = 0; load < loads; load++) {
      const start = performance.now();
      await page.goto(`${server.url}/dashboard`);
      await page.locator('#pyramid-chart').waitFor({ state: 'visible' });
      browserTimes.push(performance.now() - start);
    }
    await context.close();
    rows.push({ role, firstMs: serverTimes[0], serverMs: median(serverTimes), browserMs: median(browserTimes), maxBrowserMs: Math.max(...browserTimes), kib: bytes / 1024 });
  }
} finally {
  await browser.close();
  await server.stop();
}

console.log(`${responses} responses seeded in ${seedSeconds.toFixed(1)} s; ${cpus().length} cores (${cpus()[0].model}); median of ${loads} loads`);
// The first request after the server starts reads every row into the report columns it
// keeps; the ones after read only what is new. Roles are measured in this order, so only
// the admin's first request is the cold one.
console.log('| role | server, first request | server, whole page (median) | browser, until the pyramid is visible (median / worst) | page size |');
console.log('|---|---|---|---|---|');
for (const row of rows) {
  console.log(`| ${row.role} | ${row.firstMs.toFixed(0)} ms | ${row.serverMs.toFixed(0)} ms | ${row.browserMs.toFixed(0)} / ${row.maxBrowserMs.toFixed(0)} ms | ${row.kib.toFixed(0)} KiB |`);
}
