// Widget load benchmark: bytes downloaded and time until the 0–10 buttons are usable, for
// the Rapport widget beside a hand-written vanilla form (the floor) and two peers, each over
// N cold loads in headless Chromium, in the same run, and the memory each holds once loaded.
// Usage (after `cargo xtask dist`):
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

// Peer libraries come from bench/widget/node_modules (`npm install` there first).
const PEER_FILES = {
  'survey.core.min.js': 'node_modules/survey-core/survey.core.min.js',
  'survey-core.fontless.min.css': 'node_modules/survey-core/survey-core.fontless.min.css',
  'survey-js-ui.min.js': 'node_modules/survey-js-ui/survey-js-ui.min.js',
  'index.umd.js': 'node_modules/@formbricks/surveys/dist/index.umd.js',
};

function resolveFile(urlPath) {
  if (urlPath.startsWith('/widget/')) {
    // The bundle, subdirectories included (the built-in templates), and nothing above it.
    const inside = path.normalize(urlPath.slice('/widget/'.length)).replace(/^(\.\.(\/|$))+/, '');
    return path.join(repo, 'dist/widget', inside);
  }
  const name = path.basename(urlPath);
  return path.join(here, PEER_FILES[name] || name);
}

const server = http.createServer((request, response) => {
  const url = new URL(request.url, 'http://x');
  if (request.method === 'POST') { response.writeHead(201).end('{}'); return; }
  const file = resolveFile(url.pathname);
  if (!existsSync(file)) { response.writeHead(404).end(); return; }
  // Cross-origin isolation lets the page measure its own memory, wasm included.
  response.writeHead(200, {
    'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
    'cache-control': 'no-store',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
  }).end(readFileSync(file));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// Records when the "9" of the 0–10 question first exists and can be chosen: a button or
// radio, or a label holding an enabled input, looking into open shadow roots.
const probe = () => {
  const usable = (leaf) => {
    const control = leaf.closest('button, [role=radio], label');
    if (!control) return false;
    if (control.tagName === 'LABEL') {
      const input = control.querySelector('input');
      return !input || !input.disabled;
    }
    return !control.disabled;
  };
  const find = (root) => {
    for (const element of root.querySelectorAll('*')) {
      if (element.textContent.trim() === '9' && usable(element)) return element;
    }
    for (const host of root.querySelectorAll('*')) if (host.shadowRoot) { const found = find(host.shadowRoot); if (found) return found; }
    return null;
  };
  const tick = () => { if (find(document)) window.__usableAt = performance.now(); else requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
};

// Keeps every WebAssembly memory the page instantiates, so its linear memory can be read.
const wasmMemories = () => {
  window.__wasmMemories = [];
  const keep = (result) => {
    const instance = result instanceof WebAssembly.Instance ? result : result.instance;
    for (const value of Object.values(instance.exports)) {
      if (value instanceof WebAssembly.Memory) window.__wasmMemories.push(value);
    }
    return result;
  };
  const { instantiate, instantiateStreaming } = WebAssembly;
  WebAssembly.instantiate = (...args) => instantiate(...args).then(keep);
  WebAssembly.instantiateStreaming = (...args) => instantiateStreaming(...args).then(keep);
};

/** The used JS heap of `tab` after a full garbage collection, through the DevTools protocol. */
async function heapAfterGc(context, tab) {
  const session = await context.newCDPSession(tab);
  await session.send('HeapProfiler.collectGarbage');
  const { usedSize } = await session.send('Runtime.getHeapUsage');
  await session.detach();
  return usedSize;
}

/**
 * The memory of a loaded page, once it has settled, two ways: Chromium's own
 * `measureUserAgentSpecificMemory` (JS heap with WebAssembly memory, whole page), and the
 * used JS heap after a garbage collection above that of an empty page, plus WebAssembly
 * linear memory.
 */
async function memoryOf(page, emptyHeap) {
  const context = await browser.newContext();
  await context.addInitScript(probe);
  await context.addInitScript(wasmMemories);
  const tab = await context.newPage();
  await tab.goto(`${base}/${page}`);
  await tab.waitForFunction(() => window.__usableAt !== undefined, null, { timeout: 30000 });
  await tab.waitForTimeout(500);
  const bytes = await tab.evaluate(async () => (await performance.measureUserAgentSpecificMemory()).bytes);
  const heap = await heapAfterGc(context, tab);
  const wasm = await tab.evaluate(() => window.__wasmMemories.reduce((sum, memory) => sum + memory.buffer.byteLength, 0));
  await context.close();
  return { bytes, heapAbove: heap - emptyHeap, wasm };
}

/** The used JS heap of an empty page after a garbage collection, with the same scripts added. */
async function emptyPageHeap() {
  const context = await browser.newContext();
  await context.addInitScript(probe);
  await context.addInitScript(wasmMemories);
  const tab = await context.newPage();
  await tab.goto(`${base}/empty.html`);
  const heap = await heapAfterGc(context, tab);
  await context.close();
  return heap;
}

async function measure(page) {
  const context = await browser.newContext();
  await context.addInitScript(probe);
  const tab = await context.newPage();
  const files = new Set();
  tab.on('request', (request) => files.add(new URL(request.url()).pathname));
  tab.on('pageerror', (error) => console.error(`${page}: ${error.message}`));
  tab.on('console', (message) => { if (message.type() === 'error') console.error(`${page}: ${message.text()}`); });
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
const emptyHeap = await emptyPageHeap();
const pages = [['vanilla form (floor)', 'vanilla.html'], ['Rapport widget', 'rapport.html'], ['SurveyJS (survey-core + survey-js-ui)', 'surveyjs.html'], ['Formbricks renderer (@formbricks/surveys)', 'formbricks.html']];
for (const [name, page] of pages) {
  console.error(`measuring ${name}…`);
  const runs = [];
  for (let run = 0; run < loads; run += 1) runs.push(await measure(page));
  rows.push({ name, usable: median(runs.map((run) => run.usable)), memory: await memoryOf(page, emptyHeap), ...bytes(runs[0].files) });
}
await browser.close();
server.close();
const mib = (bytes) => (bytes / 1024 / 1024).toFixed(2);
console.log(`| page | downloaded raw | gzip | brotli | time to usable NPS (median of ${loads}) | measureUserAgentSpecificMemory | JS heap above an empty page, after GC | wasm linear memory | those two together |`);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const row of rows) {
  const { bytes: whole, heapAbove, wasm } = row.memory;
  console.log(`| ${row.name} | ${row.raw} B | ${row.gzip} B | ${row.brotli} B | ${row.usable.toFixed(0)} ms | ${mib(whole)} MiB | ${mib(heapAbove)} MiB | ${mib(wasm)} MiB | ${mib(heapAbove + wasm)} MiB |`);
}
const [floor, rapport] = rows;
const formbricks = rows.find((row) => row.name.startsWith('Formbricks'));
console.log(`\nRapport / floor time to usable: ${(rapport.usable / floor.usable).toFixed(2)}x`);
console.log(`Rapport / Formbricks time to usable: ${(rapport.usable / formbricks.usable).toFixed(2)}x (goal: at most 1.2x)`);
console.log(`Rapport / Formbricks brotli bytes: ${(rapport.brotli / formbricks.brotli).toFixed(2)}x; memory (heap above empty + wasm): ${((rapport.memory.heapAbove + rapport.memory.wasm) / (formbricks.memory.heapAbove + formbricks.memory.wasm)).toFixed(2)}x (goal: at most 1x)`);
