// Running the programme from the browser, as a programme lead would, in headless Chromium
// against a real server: sign in with an admin token, make a survey from a template,
// translate its title into French and list the portal's origin, preview it in French in the
// real widget, add a webhook, copy the embed snippet onto a page of another origin, answer
// the survey there, and see the answer on the dashboard and in the webhook log (and at the
// receiver). Then give an account manager access and revoke it again, and invite clients
// from a file of contacts, see who answered, and resend a link.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { startServer, launch, freePort, screenshot, watchErrors, rapportBin, parseCsv } from './support.mjs';

const FRENCH_TITLE = 'Notre négociation, en bref';
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe's WCAG 2.1 AA violations on `page` (which must bypass the CSP to run axe). */
async function axeViolations(page) {
  await page.addScriptTag({ path: axePath });
  return page.evaluate(async () => {
    const results = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return results.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  });
}

/** Clicks `button` and returns the text of the file it downloads. */
async function downloadText(page, button) {
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return readFileSync(await download.path(), 'utf8');
}

/** Each contact's link, from a file of links the invitations page gave back. */
function linksByContact(text) {
  const [header, ...rows] = parseCsv(text.replace(/^\uFEFF/, ''));
  assert.deepEqual(header, ['contact', 'link', 'email_html', 'email_text']);
  return new Map(rows.map((row) => [row[0], row[1]]));
}

/** Signs the programme lead in on `page` and makes survey `id` from the post-negotiation
 * template, leaving the page on its editor. */
async function makeSurvey(page, id) {
  await page.goto(`${rapport.url}/dashboard`);
  await page.getByLabel('API token').fill(adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Surveys' }).click();
  await page.getByLabel('Template', { exact: true }).selectOption('post-negotiation');
  await page.getByLabel(/Survey id/).fill(id);
  await page.getByRole('button', { name: 'Make the survey' }).click();
  await page.getByRole('heading', { name: new RegExp(`Edit ${id}`) }).waitFor();
}

let rapport;
let browser;
let host;
let hostUrl;
let receiver;
let receiverUrl;
let adminToken;
// What the host page serves: the snippet copied from the editor.
let hostBody = '';
// What reached the webhook receiver.
const received = [];

before(async () => {
  rapport = await startServer();
  adminToken = execFileSync(rapportBin, ['token', 'create', '--role', 'admin', '--label', 'Programme lead Ines', '--database-url', rapport.databaseUrl], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  hostUrl = `http://127.0.0.1:${await freePort()}`;
  host = http.createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Client portal</title></head><body><h1>Client portal</h1>${hostBody}</body></html>`);
  });
  await new Promise((resolve) => host.listen(Number(new URL(hostUrl).port), '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${await freePort()}`;
  receiver = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => receiver.listen(Number(new URL(receiverUrl).port), '127.0.0.1', resolve));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  host?.close();
  receiver?.close();
  await rapport?.stop();
});

test('a programme lead makes, translates, previews and embeds a survey, and sees the answer and its webhook', { timeout: 120_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);

  // A new survey from the post-negotiation template.
  await makeSurvey(page, 'deal-pulse');

  // Translate the title, list the portal's origin, save: version 2.
  await page.getByLabel('Survey title (fr)').fill(FRENCH_TITLE);
  await page.getByLabel(/Sites that may embed the survey/).fill(hostUrl);
  await page.getByRole('button', { name: 'Save as a new version' }).click();
  await page.getByText('Saved as version 2.').waitFor();
  await screenshot(page, 'programme-editor');

  // The preview runs the real widget, in French, with the new title.
  await page.getByRole('link', { name: 'Preview in fr' }).click();
  const preview = page.frameLocator('iframe[name="preview"]');
  await preview.getByText(FRENCH_TITLE).waitFor();
  await preview.getByRole('radiogroup', { name: /recommand/ }).waitFor();

  // The snippet, as the page gives it, with this build's integrity.
  const snippet = (await page.locator('#snippet').innerText())
    .replace('ACCOUNT', 'northwind').replace('WAVE', '2026-h2');
  assert.match(snippet, /integrity="sha384-/);
  assert.match(snippet, /survey="deal-pulse"/);

  // A webhook for new responses, to the receiver.
  await page.goto(`${rapport.url}/dashboard/webhooks`);
  await page.getByLabel('Receiver URL').fill(`${receiverUrl}/hook`);
  await page.getByRole('button', { name: 'Add webhook' }).click();
  await page.locator('#webhook-added').waitFor();

  // The client answers on the portal, another origin, and chooses to share their name.
  hostBody = snippet;
  const portal = await context.newPage();
  const portalErrors = watchErrors(portal);
  await portal.goto(hostUrl);
  await portal.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '9' }).click();
  await portal.getByRole('radio', { name: /Share my name/ }).check();
  await portal.getByLabel('Name', { exact: true }).fill('Ana Ruiz');
  await portal.getByRole('button', { name: 'Send my answers' }).click();
  await portal.getByRole('heading', { name: /Thank you/ }).waitFor();

  // The dashboard counts it.
  await page.goto(`${rapport.url}/dashboard?survey=deal-pulse`);
  await page.getByRole('option', { name: /\(1 responses\)/ }).waitFor({ state: 'attached' });

  // The webhook log shows it delivered, and the receiver has it, signed.
  let delivered = false;
  for (let attempt = 0; attempt < 60 && !delivered; attempt++) {
    await page.goto(`${rapport.url}/dashboard/webhooks`);
    delivered = await page.locator('tr.delivery-delivered').count() > 0;
    if (!delivered) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.ok(delivered, await page.content());
  await screenshot(page, 'programme-webhooks');
  const event = received.find((entry) => entry.body.includes('deal-pulse'));
  assert.ok(event, JSON.stringify(received));
  assert.match(event.headers['rapport-signature'], /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.ok(!event.body.includes('Ana Ruiz'), 'a webhook never carries a name');

  assert.deepEqual(errors, []);
  assert.deepEqual(portalErrors, []);
  await context.close();
});

test('a programme lead gives an account manager access on the dashboard and revokes it', { timeout: 60_000 }, async () => {
  const lead = await browser.newContext();
  const page = await lead.newPage();
  await page.goto(`${rapport.url}/dashboard`);
  await page.getByLabel('API token').fill(adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'People and access' }).click();
  await page.getByLabel('Whose token is this?').fill('Ana Ruiz, Northwind team');
  await page.getByLabel('What may they see?').selectOption('account');
  await page.getByLabel(/Accounts/).fill('northwind');
  await page.getByRole('button', { name: 'Make the token' }).click();
  const token = (await page.locator('#issued-token').innerText()).trim();
  assert.match(token, /^rpt_[0-9a-f]{64}$/);
  await screenshot(page, 'programme-access');

  // The account manager signs in with it, in a browser of their own.
  const manager = await browser.newContext();
  const theirs = await manager.newPage();
  await theirs.goto(`${rapport.url}/dashboard`);
  await theirs.getByLabel('API token').fill(token);
  await theirs.getByRole('button', { name: 'Sign in' }).click();
  await theirs.getByRole('button', { name: 'Sign out' }).waitFor();
  assert.equal(await theirs.getByRole('link', { name: 'People and access' }).count(), 0);

  // Revoked: their next page is the sign-in form.
  await page.goto(`${rapport.url}/dashboard/access`);
  await page.getByRole('button', { name: 'Revoke the token of Ana Ruiz, Northwind team' }).click();
  await page.getByText(/revoked; its holder is signed out/).waitFor();
  await theirs.reload();
  await theirs.getByRole('heading', { name: 'Sign in to the results dashboard' }).waitFor();
  await lead.close();
  await manager.close();
});

test('the programme pages pass axe at desktop and phone widths', { timeout: 90_000 }, async () => {
  for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    const context = await browser.newContext({ viewport, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${rapport.url}/dashboard`);
    await page.getByLabel('API token').fill(adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    for (const path of ['/dashboard/surveys', '/dashboard/surveys/client-portal/edit', '/dashboard/invitations?survey=client-portal', '/dashboard/access', '/dashboard/webhooks', '/dashboard/audit']) {
      await page.goto(`${rapport.url}${path}`);
      await screenshot(page, `programme${path.replace(/[/?=]/g, '-')}-${viewport.width}`);
      assert.deepEqual(await axeViolations(page), [], `${path} at ${viewport.width}px`);
    }
    await context.close();
  }
});

test('a programme lead invites clients from a file, sees who answered, and resends a link', { timeout: 120_000 }, async () => {
  const lead = await browser.newContext();
  const page = await lead.newPage();
  const errors = watchErrors(page);
  await page.goto(`${rapport.url}/dashboard`);
  await page.getByLabel('API token').fill(adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.goto(`${rapport.url}/dashboard?survey=post-negotiation`);
  await page.getByRole('link', { name: 'Invitations' }).click();
  await page.getByRole('heading', { name: 'Invite clients' }).waitFor();

  // The file a spreadsheet saves: names with commas quoted, display names beside the ids.
  const file = path.join(rapport.dir, 'contacts.csv');
  writeFileSync(file, [
    'contact,name,account,matter,locale,account_name,matter_name',
    'lea.martin@client.example,Léa,northwind,msa-2026,fr,"Northwind Traders, Inc.",Contrat cadre 2026',
    'tom.berg@client.example,Tom Berg,contoso,nda-7,en,Contoso Ltd,Confidentiality agreement',
  ].join('\r\n'));
  await page.getByLabel('A file of contacts (CSV)').setInputFiles(file);
  await page.getByLabel(/Your firm's name/).fill('Hartley & Voss LLP');
  const links = linksByContact(await downloadText(page, page.getByRole('button', { name: 'Make the invitations and download the links' })));
  assert.deepEqual([...links.keys()].sort(), ['lea.martin@client.example', 'tom.berg@client.example']);
  for (const link of links.values()) assert.match(link, new RegExp(`^${rapport.url}/s/[A-Za-z0-9_-]+$`));

  // Both are listed as sent, not opened yet.
  await page.reload();
  const row = (email) => page.locator('#invitation-list tr', { hasText: email });
  await row('lea.martin@client.example').getByText('Sent, not opened yet').waitFor();
  await row('tom.berg@client.example').getByText('Sent, not opened yet').waitFor();
  // Accounts and matters by the names the file gave them, the ids beside.
  await row('lea.martin@client.example').getByText('Northwind Traders, Inc.').waitFor();
  await row('tom.berg@client.example').getByText('Confidentiality agreement').waitFor();

  // Léa answers from her email, in French.
  const client = await browser.newContext();
  const landing = await client.newPage();
  await landing.goto(links.get('lea.martin@client.example'));
  await landing.getByText('Objet\u00a0: Contrat cadre 2026').waitFor();
  assert.match(await landing.locator('#greeting').textContent(), /^Bonjour Léa,/);
  await landing.locator('rapport-survey .point').first().waitFor();
  await landing.getByRole('radiogroup', { name: /recommand/ }).getByRole('radio', { name: '8' }).click();
  await landing.getByRole('button', { name: 'Envoyer mes réponses' }).click();
  await landing.getByRole('heading', { name: /^Merci, Léa/ }).waitFor();

  // The lead sees her answered; Tom's invitation is still waiting.
  await page.reload();
  await row('lea.martin@client.example').getByText('Answered').waitFor();
  assert.equal(await row('lea.martin@client.example').getByRole('button', { name: /Resend/ }).count(), 0, 'an answered invitation needs no new link');
  assert.equal((await page.locator('#state-answered td').innerText()).trim(), '1');
  await screenshot(page, 'programme-invitations');

  // Resending to Tom gives a new link, and the old one no longer opens the survey.
  const resent = linksByContact(await downloadText(page, page.getByRole('button', { name: 'Resend to tom.berg@client.example' })));
  const newLink = resent.get('tom.berg@client.example');
  assert.ok(newLink && newLink !== links.get('tom.berg@client.example'), 'a new link');
  const tom = await client.newPage();
  await tom.goto(links.get('tom.berg@client.example'));
  await tom.getByText(/This link has been replaced by a newer one/).waitFor();
  assert.equal(await tom.locator('rapport-survey').count(), 0, 'the old link shows no survey');
  await tom.goto(newLink);
  await tom.locator('rapport-survey .point').first().waitFor();
  assert.deepEqual(errors, []);
  await client.close();
  await lead.close();
});

test('a programme lead changes the survey between waves and reads both waves together', { timeout: 120_000 }, async () => {
  const lead = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await lead.newPage();
  const errors = watchErrors(page);
  await makeSurvey(page, 'deal-waves');
  await page.getByLabel(/Sites that may embed the survey/).fill(hostUrl);
  await page.getByRole('button', { name: 'Save as a new version' }).click();
  await page.getByText('Saved as version 2.').waitFor();
  const snippet = (await page.locator('#snippet').innerText()).replace('ACCOUNT', 'northwind');

  /** A client answers on the portal, in a browser of their own, in `wave`. */
  async function answer(wave, score) {
    hostBody = snippet.replace('WAVE', wave);
    const client = await browser.newContext();
    const portal = await client.newPage();
    await portal.goto(hostUrl);
    await portal.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: String(score) }).click();
    await portal.getByRole('button', { name: 'Send my answers' }).click();
    await portal.getByRole('heading', { name: /Thank you/ }).waitFor();
    await client.close();
  }
  await answer('2026-h1', 9);

  // Between the waves the lead rewords the title: a new version, the same questions.
  await page.getByLabel('Survey title (en)').fill('How did the negotiation go?');
  await page.getByRole('button', { name: 'Save as a new version' }).click();
  await page.getByText('Saved as version 3.').waitFor();
  await answer('2026-h2', 4);

  // The results count both waves, and say which versions.
  await page.goto(`${rapport.url}/dashboard?survey=deal-waves`);
  const versions = page.locator('#versions');
  assert.equal(
    (await versions.innerText()).trim(),
    'These figures count versions 1 to 3 of the survey together, question by question: 1 answer to version 2 and 1 answer to version 3. Show version 3 alone',
  );
  assert.equal((await page.locator('#n-responses').innerText()).trim(), '2');
  await screenshot(page, 'dashboard-versions-1280');
  await page.getByRole('link', { name: 'Show version 3 alone' }).click();
  await page.getByText('These figures count version 3 alone.').waitFor();
  assert.equal((await page.locator('#n-responses').innerText()).trim(), '1');

  // On a phone, the sentence wraps and the page does not scroll sideways.
  await page.setViewportSize({ width: 375, height: 800 });
  await page.getByRole('link', { name: 'Count versions 1 to 3 together' }).click();
  await versions.waitFor();
  const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(width <= 375, `the page is ${width} px wide on a 375 px screen`);
  await screenshot(page, 'dashboard-versions-375');
  assert.deepEqual(errors, []);
  await lead.close();
});
