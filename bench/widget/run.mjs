// Widget load benchmark: bytes downloaded and time until the 0–10 buttons are usable, for
// the Rapport widget beside a hand-written vanilla form (the floor), each over N cold loads
// in headless Chromium, in the same run. Usage (after `cargo xtask dist`):
//   node bench/widget/run.mjs [loads=10]
import http from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import path from 'node:path';
import { chromium } from 'playwright-core';

const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, '../..');
const loads = Number(process.argv[2] || 10);
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.css': 'text/css' };

function resolveFile(urlPath) {
  if (urlPath.startsWith('/widget/')) return path.join(repo, 'dist/widget', path.basename(urlPath));
  return path.join(here, path.basename(urlPath));
}

const server = http.createServer((request, response) => {
  const url = new URL(request.url, 'http://x');
  if (request.method === 'POST') { response.writeHead(201).end('{}'); return; }
  const file = resolveFile(url.pathname);
  if (!existsSync(file)) { response.writeHead(404).end(); return; }
  response.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' }).end(readFileSync(file));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// Records when a "9" radio first exists and is enabled, looking into open shadow roots.
const probe = () => {
  const find = (root) => {
    for (const element of root.querySelectorAll('[role=radio], button')) {
      if (element.textContent.trim() === '9' && !element.disabled) return element;
    }
    for (const host of root.querySelectorAll('*')) if (host.shadowRoot) { const found = find(host.shadowRoot); if (found) return found; }
    return null;
  };
  const tick = () => { if (find(document)) window.__usableAt = performance.now(); else requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
};

async function measure(page) {
  const context = await browser.newContext();
  await context.addInitScript(probe);
  const tab = await context.newPage();
  const files = new Set();
  tab.on('request', (request) => files.add(new URL(request.url()).pathname));
  await tab.goto(`${base}/${page}`);
  await tab.waitForFunction(() => window.__usableAt !== undefined, null, { timeout: 30000 });
  const usable = await tab.evaluate(() => window.__usableAt);
  const heap = await tab.evaluate(() => performance.memory ? performance.memory.usedJSHeapSize : null);
  await context.close();
  return { usable, heap, files: [...files] };
}

function bytes(files) {
  let raw = 0, gzip = 0, brotli = 0;
  for (const file of files) {
    if (!existsSync(resolveFile(file))) continue;
    const body = readFileSync(resolveFile(file));
    raw += body.length;
    gzip += gzipSync(body, { level: 9 }).length;
    brotli += brotliCompressSync(body).length;
  }
  return { raw, gzip, brotli };
}

const median = (values) => { const sorted = [...values].sort((a, b) => a - b); return sorted[Math.floor(sorted.length / 2)]; };
const rows = [];
for (const [name, page] of [['vanilla form (floor)', 'vanilla.html'], ['rapport widget', 'rapport.html']]) {
  const runs = [];
  for (let run = 0; run < loads; run += 1) runs.push(await measure(page));
  rows.push({ name, usable: median(runs.map((run) => run.usable)), ...bytes(runs[0].files) });
}
await browser.close();
server.close();
console.log(`| page | downloaded raw | gzip | brotli | time to usable NPS (median of ${loads}) |`);
console.log('|---|---|---|---|---|');
for (const row of rows) console.log(`| ${row.name} | ${row.raw} B | ${row.gzip} B | ${row.brotli} B | ${row.usable.toFixed(0)} ms |`);
const [floor, rapport] = rows;
console.log(`\nrapport / floor time to usable: ${(rapport.usable / floor.usable).toFixed(2)}x`);
