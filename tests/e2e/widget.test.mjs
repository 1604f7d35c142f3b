// The widget end to end: embedded in the demo portal, filled by mouse and by keyboard,
// posting to the real server, which stores exactly the answers given.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, screenshot, storedCount, watchErrors } from './support.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openPortal(viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.url}/`);
  await page.locator('rapport-survey .point').first().waitFor();
  return { page, context, errors };
}

function submitted(page) {
  return page.evaluate(() => new Promise((resolve) => {
    document.addEventListener('rapport:submitted', (event) => resolve(event.detail), { once: true });
  }));
}

test('filled by mouse, the server stores exactly the answers and the thank-you shows the browser score', async () => {
  const { page, context, errors } = await openPortal();
  const before = await storedCount(server);
  const nps = page.getByRole('radiogroup', { name: /recommend us/ });
  await nps.getByRole('radio', { name: '9' }).click();
  for (const [statement, rating] of [[/trust you/, '6'], [/committed/, '7'], [/satisfied/, '6'], [/truly different/, '5'], [/genuinely care/, '6']]) {
    await page.getByRole('radiogroup', { name: statement }).getByRole('radio', { name: rating, exact: true }).click();
  }
  await page.getByLabel(/greatest strength/).fill('They answer quickly, even when the answer is not yet.');
  await page.getByRole('radio', { name: 'Day-to-day contact' }).check();
  assert.equal(await page.getByText('Answered 8 of 11').count(), 1);
  await screenshot(page, 'widget-desktop-filled');
  const detail = submitted(page);
  const posted = page.waitForResponse((response) => response.request().method() === 'POST' && response.url().endsWith('/api/v1/surveys/client-portal/responses'));
  await page.getByRole('button', { name: 'Send my answers' }).click();
  const event = await detail;
  const answer = await posted;
  await page.getByText('Thank you for your feedback').waitFor();
  assert.equal(event.provisional.nps_category, 'promoter');
  assert.equal(await storedCount(server), before + 1);
  // What the browser sent is exactly what was given, and the server stored it first time.
  assert.equal(answer.status(), 201);
  assert.equal(answer.request().headers()['content-type'], 'application/json');
  const body = JSON.parse(answer.request().postData());
  assert.deepEqual(body.answers, {
    nps: 9, trust: 6, commitment: 7, satisfaction: 6, uniqueness: 5, care: 6,
    strength: 'They answer quickly, even when the answer is not yet.', role: 'day-to-day',
  });
  assert.equal(body.response_id, event.response_id);
  assert.equal(body.confidentiality, 'confidential');
  assert.equal(body.identity, undefined);
  // The receipt itself is not read here: it is sent with `Cache-Control: no-store`, and
  // Chromium keeps no copy of such a body for the test to inspect. Its 201 says "stored",
  // and the resend below reads a receipt over plain HTTP.
  // The server holds exactly that document: the same body again is a duplicate with the
  // same score, and the same id with another answer is a conflict.
  const resend = (document) => fetch(`${server.url}/api/v1/surveys/client-portal/responses`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(document),
  });
  const again = await resend(body);
  assert.equal(again.status, 200);
  const receipt = await again.json();
  assert.equal(receipt.status, 'duplicate');
  assert.deepEqual(receipt.score, event.provisional);
  assert.equal((await resend({ ...body, answers: { ...body.answers, nps: 2 } })).status, 409);
  assert.equal(await storedCount(server), before + 1);
  assert.match(event.response_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  // The respondent sees their own ratings per level, never the category the host page gets.
  assert.deepEqual(await page.locator('rapport-survey .summary li').allTextContents(), [
    'Likelihood to recommend us: 9 of 10',
    `Relationship: ${(Math.round((19 / 3) * 10) / 10).toFixed(1)} of 7`,
    'Uniqueness: 5 of 7',
    'Service: 6 of 7',
  ]);
  await screenshot(page, 'widget-desktop-thanks');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the whole survey can be answered with the keyboard alone', async () => {
  const { page, context } = await openPortal();
  const before = await storedCount(server);
  // What has focus, looking through the shadow root.
  const focused = () => page.evaluate(() => {
    let element = document.activeElement;
    while (element && element.shadowRoot && element.shadowRoot.activeElement) element = element.shadowRoot.activeElement;
    return { tag: element.tagName, role: element.getAttribute('role'), type: element.getAttribute('type'), text: element.textContent.trim() };
  });
  await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio').first().focus();
  const visited = [];
  for (let presses = 0; presses < 60; presses += 1) {
    const now = await focused();
    visited.push(now.role ? `role=${now.role}` : (now.type || now.tag));
    if (now.tag === 'BUTTON' && now.type === 'submit') break;
    if (now.role === 'radio') {
      // One tab stop per scale: arrows choose within it.
      await page.keyboard.press('End');
      await page.keyboard.press('ArrowLeft');
    } else if (now.tag === 'TEXTAREA') {
      await page.keyboard.type('Typed without a mouse');
    } else if (now.type === 'radio') {
      await page.keyboard.press('Space');
    }
    await page.keyboard.press('Tab');
  }
  assert.equal((await focused()).type, 'submit', `the submit button is reachable by Tab; visited ${visited.join(', ')}`);
  assert.equal(visited.filter((kind) => kind === 'role=radio').length, 8, 'one tab stop for the 0–10 scale and each of the seven statements');
  assert.equal(await page.getByText('Answered 11 of 11').count(), 1);
  const detail = submitted(page);
  await page.keyboard.press('Enter');
  const event = await detail;
  assert.equal(event.provisional.nps_category, 'promoter');
  assert.equal(event.provisional.crq, 6);
  assert.equal(await storedCount(server), before + 1);
  await context.close();
});

test('the confidentiality choice explains itself and shows identity fields only when identified', async () => {
  const { page, context } = await openPortal();
  assert.equal(await page.getByText(/who gave them is never shown/).count(), 1);
  // Before choosing, the respondent is told who can see who they are, and who never can.
  assert.equal(await page.getByText(/Who can see who you are: only the people who run this feedback programme\. The team you are rating never sees who said what\./).count(), 1);
  assert.equal(await page.getByText(/can see your answers with your name/).count(), 1);
  assert.equal(await page.getByRole('radio', { name: /Keep my answers confidential/ }).isChecked(), true);
  assert.equal(await page.getByLabel('Email').count(), 0, 'no identity fields while confidential');
  await page.getByRole('radio', { name: /Share my name/ }).check();
  await page.getByLabel('Email').fill('not an email');
  await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '4' }).click();
  await page.getByRole('button', { name: 'Send my answers' }).click();
  await page.getByText('Please enter a valid email address, or leave it empty.').waitFor();
  assert.equal(await page.getByRole('alert').first().textContent(), 'Please check the highlighted answers.');
  await page.getByRole('radio', { name: /Keep my answers confidential/ }).check();
  assert.equal(await page.getByLabel('Email').count(), 0);
  await context.close();
});

test('a required answer left out is flagged next to its question and nothing is sent', async () => {
  const { page, context } = await openPortal();
  const before = await storedCount(server);
  await page.getByRole('button', { name: 'Send my answers' }).click();
  await page.getByText('Please answer this question.').waitFor();
  assert.equal(await page.getByRole('radiogroup', { name: /recommend us/ }).getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'widget-desktop-errors');
  assert.equal(await storedCount(server), before);
  await context.close();
});

test('answers survive a reload before submitting', async () => {
  const { page, context } = await openPortal();
  await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '3' }).click();
  await page.getByLabel(/greatest weakness/).fill('Slow replies in October');
  await page.reload();
  await page.locator('rapport-survey .point').first().waitFor();
  assert.equal(await page.getByRole('radio', { name: '3', checked: true }).count(), 1);
  assert.equal(await page.getByLabel(/greatest weakness/).inputValue(), 'Slow replies in October');
  await context.close();
});

test('on a 360x640 phone the survey fits without horizontal scrolling', async () => {
  for (const viewport of [{ width: 360, height: 640 }, { width: 320, height: 640 }, { width: 390, height: 844 }]) {
    const { page, context } = await openPortal(viewport);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0, `horizontal overflow at ${viewport.width}px`);
    if (viewport.width === 390) await screenshot(page, 'widget-phone');
    await context.close();
  }
});

test('theme custom properties apply when set on the element or on any ancestor', async () => {
  const { page, context } = await openPortal();
  await page.evaluate(() => {
    document.body.style.setProperty('--rapport-accent', 'rgb(11, 110, 79)');
    document.querySelector('rapport-survey').style.setProperty('--rapport-radius', '3px');
  });
  const nine = page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '9' });
  await nine.click();
  const look = await nine.evaluate((button) => {
    const style = getComputedStyle(button);
    return { background: style.backgroundColor, radius: style.borderTopLeftRadius };
  });
  assert.deepEqual(look, { background: 'rgb(11, 110, 79)', radius: '3px' });
  await context.close();
});
