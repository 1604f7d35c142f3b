// The thank-you email link: `rapport invite` prints a link; the landing page greets the
// contact with the firm and matter, shows the survey without asking who they are, and the
// answer is stored for the invitation's account. An altered link gets a plain explanation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startServer, launch, screenshot, storedCount, watchErrors, repoRoot } from './support.mjs';

let server;
let browser;
let link;

before(async () => {
  server = await startServer();
  const bin = process.env.RAPPORT_BIN || path.join(repoRoot, 'target/release/rapport');
  link = execFileSync(bin, [
    'invite', '--survey', 'post-negotiation', '--contact', 'ana.ruiz@client.example', '--name', 'Ana',
    '--account', 'northwind', '--matter', 'Master services agreement 2026', '--wave', '2026-h2',
    '--firm', 'Hartley & Voss LLP', '--expires', '30d', '--base-url', server.url,
    '--database-url', `sqlite://${path.join(server.dir, 'e2e.db')}`,
    '--identity-key-file', path.join(server.dir, 'identity.key'),
  ], { encoding: 'utf8' }).trim();
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
  await page.getByRole('heading', { name: 'Thank you, Ana' }).waitFor();
  assert.equal(await page.getByText('Hartley & Voss LLP').count(), 1);
  assert.equal(await page.getByText('About: Master services agreement 2026').count(), 1);
  await page.locator('rapport-survey .point').first().waitFor();
  assert.equal(await page.getByText(/invited personally/).count(), 1);
  await page.getByRole('radio', { name: /Share my name/ }).check();
  assert.equal(await page.getByLabel('Email').count(), 0, 'the invitation already says who answers');
  await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '10' }).click();
  await screenshot(page, 'landing-desktop');
  const before = await storedCount(server, 'post-negotiation');
  await page.getByRole('button', { name: 'Send my answers' }).click();
  await page.getByText('Thank you for your feedback').waitFor();
  assert.equal(await storedCount(server, 'post-negotiation'), before + 1);
  assert.deepEqual(errors, []);

  // Opening the link again says it was answered, and a new answer replaces the first.
  await page.evaluate(() => localStorage.clear());
  await page.goto(link);
  await page.getByText(/already answered/).waitFor();
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
  assert.equal(await page.getByText(/may have been altered/).count(), 1);
  assert.equal(await page.locator('rapport-survey').count(), 0);
  await screenshot(page, 'landing-altered-phone');
  await context.close();
});
