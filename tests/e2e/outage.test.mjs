// Real widgets against the real server through a proxy that fails on purpose: the server
// is down when people press send, then answers 500, then takes 5 s per answer, and is
// restarted in between. Some pages are reloaded, some left open. When it recovers, every
// response arrives exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, launch, freePort, watchErrors } from './support.mjs';

let rapport;
let browser;
let proxy;
let proxyUrl;
// What the proxy does to response posts: 'down' (drops the connection), 'error' (500),
// 'slow' (forwards after 5 s) or 'pass'.
const fault = { mode: 'pass', posts: 0 };

function forward(request, response, body) {
  const target = new URL(request.url, rapport.url);
  const upstream = http.request(target, { method: request.method, headers: { ...request.headers, host: target.host } }, (answer) => {
    response.writeHead(answer.statusCode, answer.headers);
    answer.pipe(response);
  });
  upstream.on('error', () => response.destroy());
  upstream.end(body);
}

before(async () => {
  rapport = await startServer();
  const port = await freePort();
  proxyUrl = `http://127.0.0.1:${port}`;
  proxy = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const isPost = request.method === 'POST' && request.url.endsWith('/responses');
      if (!isPost) return forward(request, response, body);
      fault.posts += 1;
      if (fault.mode === 'down') return request.socket.destroy();
      if (fault.mode === 'error') return response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error"}');
      if (fault.mode === 'slow') return setTimeout(() => forward(request, response, body), 5000);
      return forward(request, response, body);
    });
  });
  await new Promise((resolve) => proxy.listen(port, '127.0.0.1', resolve));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => proxy?.close(resolve));
  await rapport?.stop();
});

async function answerAndSend(page, nps) {
  await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: String(nps), exact: true }).click();
  await page.getByRole('radiogroup', { name: /trust you/ }).getByRole('radio', { name: '5', exact: true }).click();
  await page.getByRole('button', { name: 'Send my answers' }).click();
}

async function stored() {
  const list = await (await fetch(`${rapport.url}/api/v1/surveys`)).json();
  return list.find((entry) => entry.id === 'client-portal').responses;
}

test('responses sent through an outage, 500s, slow answers and a restart arrive exactly once', { timeout: 240000 }, async () => {
  fault.mode = 'down';
  const tabs = [];
  for (let idx = 0; idx < 6; idx += 1) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${proxyUrl}/`);
    await page.locator('rapport-survey .point').first().waitFor();
    await answerAndSend(page, idx + 4);
    await page.getByText(/saved on this device/).waitFor();
    tabs.push({ context, page, errors });
  }
  assert.equal(await stored(), 0, 'nothing got through while the server was down');
  // Half the respondents reload; their answers wait on the device and the page says so.
  for (const { page } of tabs.slice(0, 3)) {
    await page.reload();
    await page.getByText(/saved on this device/).waitFor();
  }
  const ids = await Promise.all(tabs.map(({ page }) => page.evaluate(() => JSON.parse(localStorage.getItem('rapport:outbox'))[0].response_id)));
  assert.equal(new Set(ids).size, 6);

  // The server comes back answering 500, then is restarted, then answers slowly.
  fault.mode = 'error';
  const errorsFrom = fault.posts;
  await new Promise((resolve) => setTimeout(resolve, 4000));
  await rapport.restart();
  fault.mode = 'slow';
  await new Promise((resolve) => setTimeout(resolve, 6000));
  fault.mode = 'pass';
  for (const { page } of tabs) {
    await page.getByText(/A first reading of your answers/).waitFor({ timeout: 150000 });
  }
  assert.ok(fault.posts > errorsFrom, 'the widgets kept trying through the faults');
  // Any straggling retry lands before counting.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.equal(await stored(), 6, 'every response once');
  for (const { context, page, errors } of tabs) {
    assert.equal(await page.evaluate(() => JSON.parse(localStorage.getItem('rapport:outbox')).length), 0);
    assert.deepEqual(errors, []);
    await context.close();
  }
});
