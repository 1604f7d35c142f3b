// The three confidentiality modes as a respondent meets them, on a host page that embeds
// the survey definition inline (`<script type="application/json">` child) and posts to
// its own endpoint: what is asked, what is explained, and what leaves the browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, launch, freePort, watchErrors, repoRoot } from './support.mjs';

const widgetDir = process.env.RAPPORT_WIDGET_DIR || path.join(repoRoot, 'dist/widget');
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm' };
let rapport;
let browser;
let host;
let hostUrl;
let baseDefinition;
// The definition each page embeds, by page name, and every body posted to /collect.
const definitions = new Map();
const received = [];

function escapeJson(value) {
  // Inside <script type="application/json"> only "</" could end the element early.
  return JSON.stringify(value).replaceAll('</', '<\\/');
}

before(async () => {
  // The Rapport server is only asked for a real definition to vary; the pages never call it.
  rapport = await startServer();
  baseDefinition = await (await fetch(`${rapport.url}/api/v1/surveys/post-negotiation`)).json();
  const hostPort = await freePort();
  hostUrl = `http://127.0.0.1:${hostPort}`;
  host = http.createServer((request, response) => {
    const url = new URL(request.url, hostUrl);
    if (url.pathname === '/collect') {
      let body = '';
      request.on('data', (chunk) => { body += chunk; });
      request.on('end', () => {
        received.push(JSON.parse(body));
        response.writeHead(201, { 'content-type': 'application/json' }).end('{"status":"stored"}');
      });
      return;
    }
    if (url.pathname.startsWith('/widget/')) {
      const file = path.join(widgetDir, path.basename(url.pathname));
      response.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' }).end(readFileSync(file));
      return;
    }
    const name = url.pathname.slice(1);
    const definition = definitions.get(name);
    if (!definition) {
      response.writeHead(404).end();
      return;
    }
    const token = url.searchParams.get('token');
    response.writeHead(200, {
      'content-type': 'text/html',
      'content-security-policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'",
    }).end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${name}</title>
<script type="module" src="/widget/rapport.js"></script></head><body>
<rapport-survey survey="post-negotiation" endpoint="${hostUrl}/collect" account="northwind"${token ? ` token="${token}"` : ''}>
<script type="application/json">${escapeJson(definition)}</script></rapport-survey></body></html>`);
  });
  await new Promise((resolve) => host.listen(hostPort, '127.0.0.1', resolve));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  host?.close();
  await rapport?.stop();
});

async function open(name, definition, query = '') {
  definitions.set(name, definition);
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${hostUrl}/${name}${query}`);
  await page.locator('rapport-survey .point').first().waitFor();
  return { page, context, errors };
}

async function answerAndSend(page, nps) {
  const before = received.length;
  await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: String(nps), exact: true }).click();
  await page.getByRole('button', { name: 'Send my answers' }).click();
  await page.getByText('Thank you for your feedback').waitFor();
  assert.equal(received.length, before + 1);
  return received.at(-1);
}

test('confidential mode asks for identity with a notice, and sends it marked confidential', async () => {
  const { page, context, errors } = await open('confidential', { ...baseDefinition, confidentiality: 'confidential' });
  await page.getByText(/held confidentially and never shown with your answers/).waitFor();
  assert.equal(await page.getByRole('radio', { name: /Share my name/ }).count(), 0, 'no choice to make in confidential mode');
  await page.getByLabel('Name').fill('Ana Ruiz');
  await page.getByLabel('Email').fill('ana@northwind.example');
  const body = await answerAndSend(page, 8);
  assert.equal(body.confidentiality, 'confidential');
  assert.deepEqual(body.identity, { name: 'Ana Ruiz', email: 'ana@northwind.example' });
  assert.deepEqual(body.answers, { nps: 8 });
  assert.deepEqual(errors, []);
  await context.close();
});

test('anonymous mode asks nothing about the respondent and sends nothing identifying, even from an invitation link', async () => {
  const { page, context, errors } = await open('anonymous', { ...baseDefinition, confidentiality: 'anonymous' }, '?token=signed-invitation');
  await page.getByText(/This survey is anonymous/).waitFor();
  assert.equal(await page.locator('rapport-survey input[type="text"], rapport-survey input[type="email"]').count(), 0);
  const body = await answerAndSend(page, 3);
  assert.equal(body.confidentiality, 'anonymous');
  assert.equal(body.identity, undefined);
  assert.equal(body.invitation, undefined, 'the invitation token would say who was asked');
  assert.deepEqual(body.answers, { nps: 3 });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a survey that hides the answer summary thanks the respondent without listing ratings', async () => {
  const { page, context } = await open('hidden-result', { ...baseDefinition, show_answer_summary: false });
  const detail = page.evaluate(() => new Promise((resolve) => {
    document.addEventListener('rapport:submitted', (event) => resolve(event.detail), { once: true });
  }));
  await answerAndSend(page, 10);
  assert.equal((await detail).provisional.nps_category, 'promoter', 'the host page still gets the score');
  await page.getByText('Your answers have arrived.').waitFor();
  assert.equal(await page.locator('rapport-survey .summary').count(), 0);
  await context.close();
});

test('a definition stored under the former name of the answer summary still hides it', async () => {
  const { show_answer_summary: _, ...rest } = baseDefinition;
  const { page, context } = await open('former-name', { ...rest, show_provisional_result: false });
  await answerAndSend(page, 6);
  assert.equal(await page.locator('rapport-survey .summary').count(), 0);
  await context.close();
});

test('a survey that always asks identity lets a confidential respondent give it, saying who sees it', async () => {
  const { page, context, errors } = await open('always', { ...baseDefinition, confidentiality: 'optional', ask_identity: 'always' });
  assert.equal(await page.getByRole('radio', { name: /Keep my answers confidential/ }).isChecked(), true);
  await page.getByText(/Giving your name or email is up to you\. Who sees them: only the people who run this feedback programme, never the team you are rating\./).waitFor();
  await page.getByLabel('Email').fill('ana@northwind.example');
  const body = await answerAndSend(page, 7);
  assert.equal(body.confidentiality, 'confidential');
  assert.deepEqual(body.identity, { email: 'ana@northwind.example' });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a survey that never asks identity offers no name to share and sends none', async () => {
  const { page, context } = await open('never', { ...baseDefinition, confidentiality: 'optional', ask_identity: 'never' });
  assert.equal(await page.getByRole('radio', { name: /Share my name/ }).count(), 0);
  assert.equal(await page.locator('rapport-survey input[type="text"], rapport-survey input[type="email"]').count(), 0);
  const body = await answerAndSend(page, 9);
  assert.equal(body.confidentiality, 'confidential');
  assert.equal(body.identity, undefined);
  await context.close();
});
