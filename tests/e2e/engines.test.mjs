// The widget in the three engines clients open their portals with: Chromium, Firefox and
// WebKit (Safari's engine). In each, a fresh browser opens the demo page served by a real
// `rapport serve`, and the survey is rendered, filled, sent while the server is down (kept
// on the device, "will be sent"), and delivered once the server is back, ending on the
// thank-you screen with the answer stored exactly once.
//
// Each engine is driven through its own protocol (Playwright for Chromium, WebDriver BiDi
// through puppeteer-core for Firefox, W3C WebDriver for WebKit), so the steps below only
// ever run JavaScript in the page and read back what it returns: the same steps in every
// engine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import puppeteer from 'puppeteer-core';
import { startServer, storedCount, launch, freePort } from './support.mjs';

const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver';
const MINIBROWSER = process.env.WEBKIT_MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** Chromium through Playwright. */
async function chromiumEngine() {
  const browser = await launch();
  const page = await (await browser.newContext()).newPage();
  return {
    goto: (url) => page.goto(url),
    run: (script) => page.evaluate(script),
    close: () => browser.close(),
  };
}

/** Firefox ESR through WebDriver BiDi (puppeteer-core; nothing is downloaded). */
async function firefoxEngine() {
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
  const page = await browser.newPage();
  return {
    goto: (url) => page.goto(url),
    run: (script) => page.evaluate(script),
    close: () => browser.close(),
  };
}

/** WebKitGTK's MiniBrowser through W3C WebDriver, on a virtual X display. */
async function webkitEngine() {
  const port = await freePort();
  const driver = spawn('xvfb-run', ['-a', WEBKIT_DRIVER, `--port=${port}`], { stdio: 'ignore', detached: true });
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(answer.value)}`);
    return answer.value;
  };
  for (let tries = 0; ; tries += 1) {
    try {
      if ((await call('GET', '/status')).ready) break;
    } catch (error) {
      if (tries > 100) throw new Error(`WebKitWebDriver did not start: ${error.message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const session = await call('POST', '/session', {
    capabilities: {
      alwaysMatch: {
        browserName: 'MiniBrowser',
        'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
      },
    },
  });
  const id = session.sessionId;
  return {
    goto: (url) => call('POST', `/session/${id}/url`, { url }),
    run: (script) => call('POST', `/session/${id}/execute/sync`, { script: `return (${script});`, args: [] }),
    close: async () => {
      await call('DELETE', `/session/${id}`).catch(() => {});
      try { process.kill(-driver.pid, 'SIGTERM'); } catch { /* already gone */ }
    },
  };
}

// Runs in the page: what the survey shows, read through its open shadow root.
const STATE = `(() => {
  const root = document.querySelector('rapport-survey')?.shadowRoot;
  if (!root) return 'none';
  const done = root.querySelector('.done');
  if (done) return done.classList.contains('queued') ? 'queued' : done.classList.contains('blocked') ? 'blocked' : 'done';
  return root.querySelector('form') ? 'form' : 'loading';
})()`;

// Runs in the page: answers 9 on the 0–10 question and keeps the answers confidential, then
// sends. Returns what was missing, if anything.
const FILL_AND_SEND = `(() => {
  const root = document.querySelector('rapport-survey').shadowRoot;
  const nine = [...root.querySelectorAll('button, label')].find((element) => element.textContent.trim() === '9');
  if (!nine) return 'no 9 on the 0-10 scale';
  (nine.querySelector('input') || nine).click();
  const confidential = root.querySelector('input[name=confidentiality][value=confidential]');
  if (!confidential) return 'no confidentiality choice';
  confidential.click();
  const send = root.querySelector('button[type=submit]');
  if (!send) return 'no send button';
  send.click();
  return '';
})()`;

/** Waits until `engine` shows one of `states`; returns it. */
async function until(engine, states, what) {
  const deadline = Date.now() + 45_000;
  let last;
  while (Date.now() < deadline) {
    last = await engine.run(STATE);
    if (states.includes(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what}: the survey still shows "${last}"`);
}

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

for (const [name, open] of [['Chromium', chromiumEngine], ['Firefox', firefoxEngine], ['WebKit', webkitEngine]]) {
  test(`${name}: the survey renders, keeps an answer sent while the server is down, and delivers it once`, { timeout: 120_000 }, async () => {
    const engine = await open();
    try {
      const before = await storedCount(server);
      await engine.goto(`${server.url}/`);
      await until(engine, ['form'], 'rendering');
      await server.stop();
      assert.equal(await engine.run(FILL_AND_SEND), '');
      await until(engine, ['queued'], 'sending while the server is down');
      await server.restart();
      await until(engine, ['done'], 'delivering once the server is back');
      assert.equal(await storedCount(server), before + 1, 'stored exactly once');
    } finally {
      await engine.close();
    }
  });
}
