// Accessibility and embedding: axe-core finds no violation on any screen of any built-in
// template, several widgets on one page work independently, and attribute changes apply.
// axe-core is injected as a script, which the pages' Content-Security-Policy rightly
// forbids, so these browser contexts bypass the policy for the checker's sake.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { startServer, launch, screenshot } from './support.mjs';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
let server;
let browser;
let pagesDir;

before(async () => {
  server = await startServer();
  // Extra host pages, served by the server from a www directory of the test's own.
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function violations(page) {
  await page.addScriptTag({ path: axePath });
  return page.evaluate(async () => {
    const results = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return results.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  });
}

for (const survey of ['client-portal', 'post-negotiation', 'legal-contract-experience']) {
  test(`${survey}: no axe violations on the form, with errors shown, and on the thank-you screen`, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.locator('rapport-survey .point').first().waitFor();
    await page.locator('rapport-survey').evaluate((element, id) => element.setAttribute('survey', id), survey);
    await page.locator(`rapport-survey form`).waitFor();
    await page.waitForFunction((id) => {
      const title = document.querySelector('rapport-survey').shadowRoot.querySelector('.title');
      return title && document.querySelector('rapport-survey').getAttribute('survey') === id;
    }, survey);
    assert.deepEqual(await violations(page), [], 'form');
    await page.getByRole('button', { name: 'Send my answers' }).click();
    await page.getByText('Please answer this question.').waitFor();
    assert.deepEqual(await violations(page), [], 'form with errors');
    await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '6' }).click();
    await page.getByRole('button', { name: 'Send my answers' }).click();
    await page.getByText('Thank you for your feedback').waitFor();
    assert.deepEqual(await violations(page), [], 'thank-you screen');
    await context.close();
  });
}

test('changing the locale attribute after mount re-renders in that language', async () => {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  await page.locator('rapport-survey .point').first().waitFor();
  await page.locator('rapport-survey').evaluate((element) => element.setAttribute('locale', 'nl'));
  await page.getByRole('button', { name: 'Antwoorden versturen' }).waitFor();
  assert.equal(await page.getByText('Hoe waarschijnlijk is het dat u ons aanbeveelt').count(), 1);
  await screenshot(page, 'widget-dutch');
  await context.close();
});

test('two widgets on one page keep their own answers, and the JS API mounts and unmounts', async () => {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  await page.locator('rapport-survey .point').first().waitFor();
  await page.evaluate(() => {
    const second = document.createElement('rapport-survey');
    second.id = 'second';
    second.setAttribute('survey', 'post-negotiation');
    document.body.appendChild(second);
  });
  const first = page.locator('rapport-survey').first();
  const second = page.locator('#second');
  await second.locator('.point').first().waitFor();
  await first.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '2' }).click();
  await second.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '10' }).click();
  assert.equal(await first.getByRole('radio', { checked: true, name: '2' }).count(), 1);
  assert.equal(await second.getByRole('radio', { checked: true, name: '10' }).count(), 1);
  assert.equal(await first.getByRole('radio', { checked: true, name: '10' }).count(), 0);

  const mounted = await page.evaluate(async () => {
    const target = document.createElement('div');
    document.body.appendChild(target);
    const handle = await window.Rapport.mount(target, { survey: 'post-negotiation', locale: 'es' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = target.shadowRoot.textContent.includes('Enviar mis respuestas');
    handle.unmount();
    return { before, after: target.shadowRoot.childElementCount };
  });
  assert.deepEqual(mounted, { before: true, after: 0 });
  await context.close();
});

test('an inline definition is used without asking the server, and a refusal raises rapport:error with the message', async () => {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  await page.locator('rapport-survey .point').first().waitFor();
  const definition = await (await fetch(`${server.url}/api/v1/surveys/post-negotiation`)).json();
  definition.title = { en: 'Inline pulse' };
  definition.questions = definition.questions.filter((question) => question.kind === 'nps' || question.kind === 'experience');
  definition.levels = [];
  // The server holds version 1 only, so an answer to this inline version 7 is refused.
  definition.version = 7;
  await page.evaluate((inline) => {
    const element = document.createElement('rapport-survey');
    element.id = 'inline';
    element.setAttribute('survey', 'post-negotiation');
    element.setAttribute('definition', JSON.stringify(inline));
    window.inlineError = new Promise((resolve) => element.addEventListener('rapport:error', (event) => resolve(event.detail), { once: true }));
    document.body.appendChild(element);
  }, definition);
  const inline = page.locator('#inline');
  await inline.getByRole('heading', { name: 'Inline pulse' }).waitFor();
  await inline.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '8' }).click();
  await inline.getByRole('button', { name: 'Send my answers' }).click();
  const detail = await page.evaluate(() => window.inlineError);
  assert.match(detail.message, /has no version 7/);
  await inline.getByText(/has no version 7/).first().waitFor();
  await context.close();
});
