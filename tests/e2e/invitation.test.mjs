// The thank-you email link: `rapport invite` prints a link; the landing page greets the
// contact with the firm and the matter's name, in the invitation's language (else the
// browser's), shows the survey in that language without asking who they are, thanks them
// once the answer is stored, and the answer is stored for the invitation's account. A link
// that cannot be used says what to do, in the client's language, naming the firm if known.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startServer, launch, screenshot, storedCount, watchErrors, repoRoot } from './support.mjs';

let server;
let browser;
let link;
const bin = process.env.RAPPORT_BIN || path.join(repoRoot, 'target/release/rapport');

/** `rapport invite` for Ana at Northwind, with `extra` arguments, into `database`. */
function invite(extra = [], database = 'e2e.db') {
  return execFileSync(bin, [
    'invite', '--survey', 'post-negotiation', '--contact', 'ana.ruiz@client.example', '--name', 'Ana',
    '--account', 'northwind', '--matter', 'msa-2026', '--wave', '2026-h2',
    '--firm', 'Hartley & Voss LLP', '--expires', '30d', '--base-url', server.url,
    '--database-url', `sqlite://${path.join(server.dir, database)}`,
    '--identity-key-file', path.join(server.dir, 'identity.key'),
    ...extra,
  ], { encoding: 'utf8' }).trim();
}

/** The words of the page around the survey (the widget's own words are in its shadow root). */
async function pageWords(page) {
  return page.evaluate(() => document.querySelector('.landing-head').innerText + '\n' + document.getElementById('status').innerText);
}

before(async () => {
  server = await startServer();
  link = invite(['--matter-name', 'Master services agreement 2026']);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the emailed link greets the contact, asks nothing about who they are, and stores the answer once', async () => {
  assert.match(link, new RegExp(`^${server.url}/s/[A-Za-z0-9_-]+$`));
  // The link is opaque: nothing in it, decoded, names the contact or the account.
  const decoded = Buffer.from(link.split('/s/')[1], 'base64url').toString('latin1');
  for (const secret of ['ana.ruiz', 'northwind', 'Hartley', 'Master services']) {
    assert.ok(!decoded.includes(secret) && !link.includes(secret), `the link shows ${secret}`);
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(link);
  // Greeted, not thanked: nothing has been answered yet.
  await page.getByRole('heading', { name: 'Dear Ana,' }).waitFor();
  // The page's own heading (the survey's title, inside the widget, is the survey's words).
  assert.equal(await page.locator('#greeting').textContent(), 'Dear Ana,', 'thanked before answering');
  assert.equal(await page.getByText('Hartley & Voss LLP', { exact: true }).count(), 1);
  assert.equal(await page.getByText('Hartley & Voss LLP would like to hear how the work went for you. It takes about two minutes.').count(), 1);
  assert.equal(await page.getByText('About: Master services agreement 2026').count(), 1);
  assert.ok(!(await pageWords(page)).includes('msa-2026'), 'the matter id is shown');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await page.locator('rapport-survey .point').first().waitFor();
  assert.equal(await page.getByText(/invited personally/).count(), 1);
  await page.getByRole('radio', { name: /Share my name/ }).check();
  assert.equal(await page.getByLabel('Email').count(), 0, 'the invitation already says who answers');
  await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '10' }).click();
  await screenshot(page, 'landing-desktop');
  const before = await storedCount(server, 'post-negotiation');
  await page.getByRole('button', { name: 'Send my answers' }).click();
  await page.getByText('Thank you for your feedback').waitFor();
  await page.getByRole('heading', { name: 'Thank you, Ana.' }).waitFor();
  assert.equal(await page.getByText('Your answers have reached Hartley & Voss LLP.').count(), 1);
  assert.equal(await storedCount(server, 'post-negotiation'), before + 1);
  assert.deepEqual(errors, []);

  // Opening the link again on the same device: the survey says it was answered, and the
  // page only adds what sending again would do, so the client reads it once.
  await page.goto(link);
  await page.getByRole('heading', { name: 'You have already answered this survey' }).waitFor();
  await page.getByText('If you send your answers again, they will replace the earlier ones.', { exact: true }).waitFor();
  assert.equal(await page.getByText(/already answered this survey/).count(), 1, 'said once');

  // On another device (nothing stored), the page says it was answered, and a new answer
  // replaces the first.
  await page.evaluate(() => localStorage.clear());
  await page.goto(link);
  await page.getByText(/already answered this survey\. If you send it again, your new answers will replace the earlier ones\./).waitFor();
  assert.equal(await page.locator('#greeting').textContent(), 'Dear Ana,', 'thanked before answering again');
  await page.locator('rapport-survey .point').first().waitFor();
  await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '4' }).click();
  await page.getByRole('button', { name: 'Send my answers' }).click();
  await page.getByText('Thank you for your feedback').waitFor();
  assert.equal(await storedCount(server, 'post-negotiation'), before + 1, 'one response per invitation');
  await context.close();
});

test('an altered link explains itself and shows no survey', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const token = link.split('/s/')[1];
  const middle = Math.floor(token.length / 2);
  const swapped = token[middle] === 'x' ? 'y' : 'x';
  await page.goto(`${server.url}/s/${token.slice(0, middle)}${swapped}${token.slice(middle + 1)}`);
  await page.getByRole('heading', { name: 'This link cannot be used' }).waitFor();
  assert.equal(await page.getByText(/^This link is incomplete or has been changed\. Please open it again from the email/).count(), 1);
  assert.equal(await page.locator('rapport-survey').count(), 0);
  await screenshot(page, 'landing-altered-phone');
  await context.close();
});

test('a French invitation speaks French around and inside the survey, and thanks after sending', { timeout: 60_000 }, async () => {
  const french = invite(['--locale', 'fr', '--matter-name', 'Contrat-cadre de services 2026'], 'e2e.db');
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(french);
  await page.getByRole('heading', { name: 'Bonjour Ana,' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr', 'the invitation wins over the browser');
  assert.equal(await page.title(), 'Votre avis');
  assert.equal(await page.locator('#matter').textContent(), 'Objet\u00a0: Contrat-cadre de services 2026');
  assert.equal(await page.getByText('Hartley & Voss LLP aimerait connaître votre avis sur le travail accompli. Cela prend environ deux minutes.').count(), 1);
  const words = await pageWords(page);
  for (const english of ['Your feedback', 'About', 'Dear', 'Thank', 'would like', 'It takes']) {
    assert.ok(!words.includes(english), `English on a French page: ${english}`);
  }
  assert.equal(await page.locator('rapport-survey').getAttribute('locale'), 'fr');
  // The survey itself speaks French.
  await page.getByRole('button', { name: 'Envoyer mes réponses' }).waitFor();
  assert.equal(await page.locator('#greeting').textContent(), 'Bonjour Ana,', 'thanked before answering');
  await page.getByRole('radio', { name: /Associer mon nom/ }).check();
  await page.getByRole('radiogroup', { name: /recommandiez/ }).getByRole('radio', { name: '9' }).click();
  await page.getByRole('button', { name: 'Envoyer mes réponses' }).click();
  await page.getByRole('heading', { name: 'Merci, Ana.' }).waitFor();
  assert.equal(await page.getByText('Vos réponses ont bien été transmises à Hartley & Voss LLP.').count(), 1);
  assert.deepEqual(errors, []);

  // Opened again, it says in French that the client answered, and what sending again does.
  await page.evaluate(() => localStorage.clear());
  await page.goto(french);
  await page.getByText('Vous avez déjà répondu à ce questionnaire. Si vous l’envoyez à nouveau, vos nouvelles réponses remplaceront les précédentes.').waitFor();
  await context.close();
});

test('without a language in the invitation the page follows the browser, else English, and shows no matter line without a name', { timeout: 60_000 }, async () => {
  const plain = invite([], 'e2e.db');
  for (const [browserLocale, language, greeting] of [['de-DE', 'de', 'Guten Tag, Ana,'], ['pt-BR', 'en', 'Dear Ana,']]) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: browserLocale });
    const page = await context.newPage();
    await page.goto(plain);
    await page.getByRole('heading', { name: greeting }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), language);
    assert.equal(await page.locator('rapport-survey').getAttribute('locale'), language);
    assert.equal(await page.locator('#matter').isVisible(), false, 'a matter line without a display name');
    assert.ok(!(await pageWords(page)).includes('msa-2026'), 'the matter id is shown');
    await context.close();
  }
});

test('a genuine link this server does not know names the firm, in the invitation\'s language', { timeout: 60_000 }, async () => {
  // Made with this server's key, but recorded in another database.
  const unknown = invite(['--locale', 'nl'], 'elsewhere.db');
  const api = await fetch(`${server.url}/api/v1/invitations/${unknown.split('/s/')[1]}`);
  const body = await api.json();
  assert.equal(api.status, 404);
  assert.deepEqual([body.reason, body.firm, body.locale], ['unknown', 'Hartley & Voss LLP', 'nl']);
  assert.ok(!JSON.stringify(body).includes('ana.ruiz') && !JSON.stringify(body).includes('Ana'), 'a refusal names the contact');

  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(unknown);
  await page.getByRole('heading', { name: 'Deze link kan niet worden gebruikt' }).waitFor();
  assert.equal(await page.getByText('Deze link wordt niet herkend. Vraag Hartley & Voss LLP om een nieuwe.').count(), 1);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'nl');
  assert.equal(await page.locator('rapport-survey').count(), 0);
  await context.close();
});

test('an expired link and an unreachable server are explained in the client\'s language', { timeout: 60_000 }, async () => {
  // The server's side of an expired link (reason, firm, language) is tested in the server's
  // suite; here the page is given that answer, since a link cannot be made already expired.
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'fr-FR' });
  const page = await context.newPage();
  await page.route('**/api/v1/invitations/**', (route) => route.fulfill({
    status: 422,
    contentType: 'application/json',
    body: JSON.stringify({ error: 'expired', reason: 'expired', firm: 'Hartley & Voss LLP', locale: 'es' }),
  }));
  await page.goto(link);
  await page.getByRole('heading', { name: 'Este enlace no se puede usar' }).waitFor();
  assert.equal(await page.getByText('Este enlace ha caducado. Pida uno nuevo a Hartley & Voss LLP.').count(), 1);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'es');
  assert.equal(await page.locator('rapport-survey').count(), 0);

  await page.unroute('**/api/v1/invitations/**');
  await page.route('**/api/v1/invitations/**', (route) => route.abort('connectionrefused'));
  await page.goto(link);
  await page.getByText('Le questionnaire est momentanément inaccessible. Veuillez vérifier votre connexion internet et réessayer dans quelques minutes.').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr', 'the browser\'s language when nothing else is known');
  assert.equal(await page.locator('rapport-survey').count(), 0);
  await context.close();
});
