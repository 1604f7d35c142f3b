// The widget on pages it does not control: a strict Content-Security-Policy, a hostile
// stylesheet, a foreign endpoint, and an endpoint that fails or disappears. Whatever
// happens, each response arrives exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, launch, freePort, screenshot, storedCount, watchErrors, repoRoot } from './support.mjs';

const widgetDir = process.env.RAPPORT_WIDGET_DIR || path.join(repoRoot, 'dist/widget');
let rapport;
let browser;
let host;
let hostUrl;
// The foreign endpoint's behaviour and what reached it.
const collector = { failuresLeft: 0, down: false, attempts: [], acknowledged: new Map(), bodies: [] };

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.html': 'text/html', '.json': 'application/json' };

function page(body, endpoint) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title>
<link rel="stylesheet" href="/hostile.css"><script type="module" src="/widget/rapport.js"></script></head>
<body><h1>Host page</h1><rapport-survey survey="post-negotiation" endpoint="${endpoint}"></rapport-survey>${body}</body></html>`;
}

before(async () => {
  const hostPort = await freePort();
  hostUrl = `http://127.0.0.1:${hostPort}`;
  rapport = await startServer(['--allow-origin', hostUrl]);
  host = http.createServer((request, response) => {
    const url = new URL(request.url, hostUrl);
    const csp = `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self' ${rapport.url}`;
    if (url.pathname === '/collect') {
      let body = '';
      request.on('data', (chunk) => { body += chunk; });
      request.on('end', () => {
        const id = JSON.parse(body).response_id;
        collector.attempts.push(id);
        if (collector.down || collector.failuresLeft > 0) {
          collector.failuresLeft = Math.max(0, collector.failuresLeft - 1);
          response.writeHead(503).end('unavailable');
          return;
        }
        collector.acknowledged.set(id, (collector.acknowledged.get(id) || 0) + 1);
        collector.bodies.push(JSON.parse(body));
        response.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      });
      return;
    }
    if (url.pathname.startsWith('/widget/')) {
      // The widget's files copied to this site, the built-in templates' directory included.
      const inside = path.normalize(url.pathname.slice('/widget/'.length)).replace(/^(\.\.(\/|$))+/, '');
      const file = path.join(widgetDir, inside);
      if (!existsSync(file)) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' }).end(readFileSync(file));
      return;
    }
    if (url.pathname === '/hostile.css') {
      response.writeHead(200, { 'content-type': 'text/css' }).end('* { all: unset !important; } button { display: none !important; } rapport-survey { font-size: 40px; color: red; }');
      return;
    }
    const endpoint = url.searchParams.get('endpoint') === 'rapport' ? `${rapport.url}/api/v1/surveys/post-negotiation/responses` : `${hostUrl}/collect`;
    response.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': csp }).end(page('', endpoint));
  });
  await new Promise((resolve) => host.listen(hostPort, '127.0.0.1', resolve));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  host?.close();
  await rapport?.stop();
});

async function fillAndSend(page) {
  await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '7' }).click();
  await page.getByRole('radiogroup', { name: /kept us informed/ }).getByRole('radio', { name: '3', exact: true }).click();
  await page.getByRole('button', { name: 'Send my answers' }).click();
}

test('under a strict CSP and a hostile stylesheet the widget works and posts cross-origin to the server', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const tab = await context.newPage();
  const errors = watchErrors(tab);
  const violations = [];
  tab.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()); });
  const before = await storedCount(rapport, 'post-negotiation');
  await tab.goto(`${hostUrl}/?endpoint=rapport`);
  const nine = tab.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '9' });
  await nine.waitFor();
  assert.ok(await nine.isVisible(), 'host rules must not hide the widget buttons');
  const fontSize = await nine.evaluate((button) => getComputedStyle(button).fontSize);
  assert.notEqual(fontSize, '40px', 'host font size must not leak in');
  await screenshot(tab, 'widget-hostile-host');
  await fillAndSend(tab);
  await tab.getByText('Thank you for your feedback').waitFor();
  assert.equal(await storedCount(rapport, 'post-negotiation'), before + 1);
  assert.deepEqual(violations, []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('an endpoint that fails twice gets the response exactly once, after retries', async () => {
  collector.failuresLeft = 2;
  collector.attempts = [];
  collector.acknowledged.clear();
  const context = await browser.newContext();
  const tab = await context.newPage();
  await tab.goto(`${hostUrl}/`);
  await tab.locator('rapport-survey .point').first().waitFor();
  await fillAndSend(tab);
  await tab.getByText(/saved on this device/).waitFor();
  await tab.getByText(/A first reading of your answers/).waitFor({ timeout: 30000 });
  assert.equal(collector.attempts.length, 3);
  assert.equal(new Set(collector.attempts).size, 1, 'every try carries the same response id');
  assert.deepEqual([...collector.acknowledged.values()], [1]);
  // The endpoint received exactly the answers given, and the browser's provisional score.
  const [received] = collector.bodies;
  assert.deepEqual(received.answers, { nps: 7, 'kept-informed': 3 });
  assert.equal(received.confidentiality, 'confidential');
  assert.equal(received.identity, undefined);
  assert.deepEqual(received.provisional, { nps_category: 'passive', contract_experience: 3 });
  await context.close();
});

test('a response sent while the endpoint is down survives a reload and arrives once when it is back', async () => {
  collector.down = true;
  collector.attempts = [];
  collector.acknowledged.clear();
  const context = await browser.newContext();
  const tab = await context.newPage();
  await tab.goto(`${hostUrl}/`);
  await tab.locator('rapport-survey .point').first().waitFor();
  await fillAndSend(tab);
  await tab.getByText(/saved on this device/).waitFor();
  const pending = await tab.evaluate(() => JSON.parse(localStorage.getItem('rapport:outbox')));
  assert.equal(pending.length, 1);
  await tab.reload();
  // After the reload the respondent sees that the answers wait, not an empty form that
  // would invite a second response.
  await tab.getByText(/saved on this device/).waitFor();
  assert.equal(await tab.getByRole('button', { name: 'Send my answers' }).count(), 0);
  const submitted = tab.evaluate(() => new Promise((resolve) => {
    document.addEventListener('rapport:submitted', (event) => resolve(event.detail), { once: true });
  }));
  collector.down = false;
  const detail = await submitted;
  await tab.getByText(/A first reading of your answers/).waitFor();
  assert.equal(detail.response_id, pending[0].response_id);
  assert.equal(detail.provisional.nps_category, 'passive');
  assert.deepEqual([...collector.acknowledged.entries()], [[pending[0].response_id, 1]]);
  assert.equal(await tab.evaluate(() => JSON.parse(localStorage.getItem('rapport:outbox')).length), 0);
  const drafts = await tab.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('rapport:draft')));
  assert.deepEqual(drafts, [], 'the saved answers are forgotten once acknowledged');
  await context.close();
});

test('two widgets of one survey on a page, with the endpoint down at load, send a waiting response once', async () => {
  collector.down = true;
  collector.attempts = [];
  collector.acknowledged.clear();
  const context = await browser.newContext();
  const tab = await context.newPage();
  await tab.goto(`${hostUrl}/`);
  await tab.locator('rapport-survey .point').first().waitFor();
  await fillAndSend(tab);
  await tab.getByText(/saved on this device/).waitFor();
  // A second widget of the same survey appears while the first response still waits:
  // both know the waiting response, but only one copy may be delivered.
  await tab.evaluate((endpoint) => {
    const second = document.createElement('rapport-survey');
    second.setAttribute('survey', 'post-negotiation');
    second.setAttribute('endpoint', endpoint);
    document.body.appendChild(second);
  }, `${hostUrl}/collect`);
  await tab.locator('rapport-survey').nth(1).getByText(/saved on this device/).waitFor();
  collector.down = false;
  await tab.locator('rapport-survey').nth(0).getByText(/A first reading of your answers/).waitFor({ timeout: 30000 });
  await tab.locator('rapport-survey').nth(1).getByText(/A first reading of your answers/).waitFor({ timeout: 30000 });
  // Let any straggling retry land before counting.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(collector.acknowledged.size, 1);
  assert.deepEqual([...collector.acknowledged.values()], [1]);
  await context.close();
});
