// Embedding across origins, exactly as README.md and widget/README.md say: the host page,
// the Rapport server and a foreign response endpoint each on an origin of their own. The
// widget loads from the Rapport server with the snippet's integrity, renders, and its
// answers reach the Rapport server (when the survey lists the host's origin) or the foreign
// endpoint (when it answers CORS). When the browser refuses the send, the widget says so,
// tells the host's developer what to configure, keeps the answers, and sends them after a
// reload once the configuration is fixed; an endpoint that is down is still an outage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, launch, freePort, screenshot, storedCount, watchErrors, repoRoot, rapportBin } from './support.mjs';

const widgetDir = process.env.RAPPORT_WIDGET_DIR || path.join(repoRoot, 'dist/widget');
const integrity = JSON.parse(readFileSync(path.join(widgetDir, 'sri.json'), 'utf8'))['rapport.js'];

let rapport;
let browser;
let host;
let hostUrl;
let foreign;
let foreignUrl;
// An origin where nothing listens.
let downUrl;
// How the foreign endpoint behaves ('cors', 'no-cors' or 'forbidden') and what reached it.
const collector = { mode: 'cors', preflights: 0, posts: 0, bodies: [] };

// The snippet of widget/README.md, with this build's integrity and the test's origins.
function snippet({ survey, endpoint }) {
  return `<script type="module" src="${rapport.url}/widget/rapport.js"
        integrity="${integrity}" crossorigin="anonymous"></script>
<rapport-survey survey="${survey}" account="northwind" wave="2026-h2"${endpoint ? ` endpoint="${endpoint}"` : ''}></rapport-survey>`;
}

function addSurvey(definition) {
  const file = path.join(rapport.dir, `${definition.id}-${definition.version}.json`);
  writeFileSync(file, JSON.stringify(definition));
  return execFileSync(rapportBin, ['survey', 'add', file, '--database-url', rapport.databaseUrl], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

before(async () => {
  rapport = await startServer();
  const hostPort = await freePort();
  const foreignPort = await freePort();
  hostUrl = `http://127.0.0.1:${hostPort}`;
  foreignUrl = `http://127.0.0.1:${foreignPort}`;
  downUrl = `http://127.0.0.1:${await freePort()}`;

  // A survey of its own, so that the title on screen proves the definition was loaded from
  // the Rapport server across origins (not a built-in template), listing the host's origin.
  const base = await (await fetch(`${rapport.url}/api/v1/surveys/post-negotiation`)).json();
  addSurvey({ ...base, id: 'portal-pulse', version: 1, title: { ...base.title, en: 'Portal pulse' }, allowed_origins: [hostUrl] });

  host = http.createServer((request, response) => {
    const url = new URL(request.url, hostUrl);
    const endpoint = url.searchParams.get('endpoint');
    // With ?strict=1 the page's own policy leaves the foreign endpoint out of connect-src.
    const connect = url.searchParams.get('strict') === '1' ? '' : ` ${foreignUrl}`;
    const csp = `default-src 'self'; script-src 'self' ${rapport.url} 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self' ${rapport.url}${connect} ${downUrl}`;
    response.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': csp }).end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Client portal</title>
${snippet({ survey: url.searchParams.get('survey') || 'portal-pulse', endpoint })}
</head><body><h1>Client portal</h1></body></html>`);
  });
  foreign = http.createServer((request, response) => {
    const cors = collector.mode === 'no-cors' ? {} : { 'access-control-allow-origin': hostUrl };
    if (request.method === 'OPTIONS') {
      collector.preflights += 1;
      response.writeHead(204, collector.mode === 'no-cors' ? {} : {
        ...cors, 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type',
      }).end();
      return;
    }
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      if (request.method !== 'POST') {
        response.writeHead(405, cors).end();
        return;
      }
      collector.posts += 1;
      if (collector.mode === 'forbidden') {
        response.writeHead(403, { ...cors, 'content-type': 'application/json' }).end('{"error":"this portal is not allowed to send answers"}');
        return;
      }
      collector.bodies.push(JSON.parse(body));
      response.writeHead(201, { ...cors, 'content-type': 'application/json' }).end('{"status":"stored"}');
    });
  });
  await new Promise((resolve) => host.listen(hostPort, '127.0.0.1', resolve));
  await new Promise((resolve) => foreign.listen(foreignPort, '127.0.0.1', resolve));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  host?.close();
  foreign?.close();
  await rapport?.stop();
});

async function fillAndSend(page) {
  await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '8' }).click();
  await page.getByRole('radiogroup', { name: /kept us informed/ }).getByRole('radio', { name: '6', exact: true }).click();
  await page.getByRole('button', { name: 'Send my answers' }).click();
}

/** Resolves with the detail of the next `rapport:<name>` event on the page. */
function nextEvent(page, name) {
  return page.evaluate((type) => new Promise((resolve) => {
    document.addEventListener(type, (event) => resolve(event.detail), { once: true });
  }), `rapport:${name}`);
}

async function outbox(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('rapport:outbox') || '[]'));
}

test('the snippet works on another origin: the bundle is public and cached, and answers reach the Rapport server', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const consoleErrors = [];
  page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()); });
  const assets = new Map();
  page.on('response', (response) => {
    if (response.url().startsWith(`${rapport.url}/widget/`)) assets.set(path.basename(new URL(response.url()).pathname), response.headers());
  });
  const before = await storedCount(rapport, 'portal-pulse');
  await page.goto(`${hostUrl}/`);
  await page.getByRole('heading', { name: 'Portal pulse' }).waitFor();
  await screenshot(page, 'embed-cross-origin');

  const loader = assets.get('rapport.js');
  assert.equal(loader['access-control-allow-origin'], '*');
  assert.equal(loader['cache-control'], 'public, max-age=300');
  const wasmName = [...assets.keys()].find((name) => name.endsWith('.wasm'));
  assert.match(wasmName, /^rapport_core_bg\.[0-9a-f]{16}\.wasm$/);
  assert.equal(assets.get(wasmName)['access-control-allow-origin'], '*');
  assert.equal(assets.get(wasmName)['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(assets.get(wasmName)['access-control-allow-credentials'], undefined);

  const submitted = nextEvent(page, 'submitted');
  await fillAndSend(page);
  const detail = await submitted;
  await page.getByText(/A first reading of your answers/).waitFor();
  assert.equal(detail.provisional.nps_category, 'passive');
  assert.equal(await storedCount(rapport, 'portal-pulse'), before + 1);
  assert.deepEqual(await outbox(page), []);
  assert.deepEqual(errors, []);
  assert.deepEqual(consoleErrors, []);
  await context.close();
});

test('a tampered loader is refused by the snippet\'s integrity', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // The same URL with one byte changed, as a compromised server or CDN would serve it.
  await page.route(`${rapport.url}/widget/rapport.js`, async (route) => {
    const original = await route.fetch();
    const body = (await original.text()).replace('Rapport survey widget loader', 'Rapport survey widget 1oader');
    await route.fulfill({ response: original, body });
  });
  const consoleErrors = [];
  page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()); });
  await page.goto(`${hostUrl}/`);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(await page.locator('rapport-survey .point').count(), 0);
  assert.ok(consoleErrors.some((text) => /integrity/i.test(text)), consoleErrors.join('\n'));
  await context.close();
});

test('with an endpoint on a third origin that answers CORS, the response goes there and is acknowledged', async () => {
  collector.mode = 'cors';
  collector.bodies = [];
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const before = await storedCount(rapport, 'portal-pulse');
  await page.goto(`${hostUrl}/?endpoint=${encodeURIComponent(`${foreignUrl}/collect`)}`);
  await page.getByRole('heading', { name: 'Portal pulse' }).waitFor();
  const submitted = nextEvent(page, 'submitted');
  await fillAndSend(page);
  const detail = await submitted;
  await page.getByText(/A first reading of your answers/).waitFor();
  assert.equal(collector.bodies.length, 1);
  assert.equal(collector.bodies[0].response_id, detail.response_id);
  assert.deepEqual(collector.bodies[0].context, { account: 'northwind', wave: '2026-h2' });
  assert.equal(await storedCount(rapport, 'portal-pulse'), before, 'nothing went to the Rapport server');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a CORS refusal is told apart from an outage, reported once, kept, and sent after the fix and a reload', async (t) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const consoleErrors = [];
  const warnings = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && message.text().startsWith('rapport:')) consoleErrors.push(message.text());
    if (message.type() === 'warning' && message.text().startsWith('rapport:')) warnings.push(message.text());
  });
  // The built-in post-negotiation survey lists no allowed origin. Its definition cannot be
  // read from the host's origin either, so the widget shows the built-in template.
  await page.goto(`${hostUrl}/?survey=post-negotiation`);
  await page.locator('rapport-survey .point').first().waitFor();
  // Before anyone answers, the developer is told that sends will be refused too.
  assert.ok(warnings.some((text) => text.includes(`Add ${hostUrl} to allowed_origins of survey post-negotiation`)), warnings.join('\n'));
  const refused = nextEvent(page, 'error');
  const started = Date.now();
  await fillAndSend(page);
  const detail = await refused;
  await page.getByText('Your answers have not been sent yet').waitFor();
  const elapsed = Date.now() - started;
  t.diagnostic(`refusal recognised and shown ${elapsed} ms after pressing send`);
  assert.ok(elapsed < 5000, `the refusal took ${elapsed} ms to recognise`);
  await screenshot(page, 'embed-refused');

  assert.equal(detail.reason, 'cors');
  assert.equal(detail.survey, 'post-negotiation');
  assert.equal(detail.origin, hostUrl);
  assert.equal(detail.kept, true);
  assert.match(detail.message, new RegExp(`add ${hostUrl.replace(/[.]/g, '\\.')} to allowed_origins of survey post-negotiation`));
  assert.equal(await page.getByText(/saved on this device and will be sent as soon as the connection is back/).count(), 0);
  // One console message for the developer, and no retry loop behind it.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.equal(consoleErrors.length, 1, consoleErrors.join('\n'));
  assert.equal(consoleErrors[0], detail.message);
  const kept = await outbox(page);
  assert.equal(kept.length, 1);
  assert.equal(kept[0].response_id, detail.response_id);

  // Reloaded before the fix: still refused, still kept, and the page says so at once.
  await page.reload();
  await page.getByText('Your answers have not been sent yet').waitFor();
  assert.equal((await outbox(page)).length, 1);

  // The operator lists the host's origin; the next load sends the kept answers.
  const base = await (await fetch(`${rapport.url}/api/v1/surveys/post-negotiation`)).json();
  addSurvey({ ...base, allowed_origins: [hostUrl] });
  const before = await storedCount(rapport, 'post-negotiation');
  await page.reload();
  await page.getByText(/A first reading of your answers/).waitFor({ timeout: 30000 });
  assert.equal(await storedCount(rapport, 'post-negotiation'), before + 1);
  assert.deepEqual(await outbox(page), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a foreign endpoint without CORS and one that answers 403 are refusals, one that is down is an outage', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const endpoint = encodeURIComponent(`${foreignUrl}/collect`);

  collector.mode = 'no-cors';
  collector.preflights = 0;
  collector.posts = 0;
  await page.goto(`${hostUrl}/?endpoint=${endpoint}`);
  await page.getByRole('heading', { name: 'Portal pulse' }).waitFor();
  let refused = nextEvent(page, 'error');
  await fillAndSend(page);
  let detail = await refused;
  assert.equal(detail.reason, 'cors');
  assert.match(detail.message, /make the endpoint answer CORS/);
  await page.getByText('Your answers have not been sent yet').waitFor();
  const preflights = collector.preflights;
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.equal(collector.preflights, preflights, 'no retries after a refusal');
  assert.equal(collector.posts, 0);
  await page.evaluate(() => localStorage.clear());

  collector.mode = 'forbidden';
  await page.reload();
  await page.getByRole('heading', { name: 'Portal pulse' }).waitFor();
  refused = nextEvent(page, 'error');
  await fillAndSend(page);
  detail = await refused;
  assert.equal(detail.reason, 'forbidden');
  assert.equal(detail.status, 403);
  assert.equal(detail.server_message, 'this portal is not allowed to send answers');
  await page.getByText('Your answers have not been sent yet').waitFor();
  assert.equal((await outbox(page)).length, 1);
  await page.evaluate(() => localStorage.clear());

  // Nothing listens on this origin: the network fails, not the browser's policy.
  await page.goto(`${hostUrl}/?endpoint=${encodeURIComponent(`${downUrl}/collect`)}`);
  await page.getByRole('heading', { name: 'Portal pulse' }).waitFor();
  await fillAndSend(page);
  await page.getByText(/saved on this device/).waitFor();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.equal(await page.getByText('Your answers have not been sent yet').count(), 0);
  assert.equal((await outbox(page)).length, 1);
  await context.close();
});

test('a host page whose own CSP leaves out the endpoint is a refusal that names connect-src, not an outage', { timeout: 60_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const warnings = [];
  page.on('console', (message) => warnings.push(message.text()));
  collector.mode = 'cors';
  const posts = collector.posts;
  await page.goto(`${hostUrl}/?strict=1&endpoint=${encodeURIComponent(`${foreignUrl}/collect`)}`);
  await page.getByRole('heading', { name: 'Portal pulse' }).waitFor();
  const refused = nextEvent(page, 'error');
  await fillAndSend(page);
  const detail = await refused;
  assert.equal(detail.reason, 'csp');
  assert.match(detail.message, /Content-Security-Policy/);
  assert.ok(detail.message.includes(`add ${foreignUrl} to connect-src`), detail.message);
  await page.getByText('Your answers have not been sent yet').waitFor();
  assert.equal(await page.getByText(/as soon as the connection is back/).count(), 0, 'not told it is an outage');
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.equal(collector.posts, posts, 'nothing was sent, and nothing retried');
  assert.equal((await outbox(page)).length, 1, 'the answers are kept');
  assert.ok(warnings.some((text) => text.startsWith('rapport:') && text.includes('connect-src')), 'the console tells the developer');
  await context.close();
});
