// The dashboard's filter form and the admin's merged labels, driven in headless Chromium
// against a real server seeded by `rapport demo-seed`: the programme lead picks a date range
// and an account, the page says what its figures cover and keeps the filter in its links,
// a bad date is said next to its field, and a merge rule made on the labels page changes
// the account choice and is named on the results page. At 375 and 320 px the page never
// scrolls sideways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, launch, rapportBin, watchErrors } from './support.mjs';

let server;
let browser;
const tokens = {};

before(async () => {
  server = await startServer();
  const seeded = execFileSync(rapportBin, ['demo-seed', '--responses', '120', '--database-url', server.databaseUrl, '--identity-key-file', `${server.dir}/identity.key`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  for (const line of seeded.trim().split('\n')) {
    const [role, , token] = line.trim().split(/\s+/);
    tokens[role] = token;
  }
  assert.ok(tokens.admin, seeded);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(token) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/dashboard`);
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${server.url}/dashboard`), page.click('.login-form button')]);
  return { context, page };
}

/** How far the page is wider than the window, in CSS pixels (0 when it fits). */
function overflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** Today's date (UTC) as YYYY-MM-DD: demo-seed's answers are received now. */
function today() {
  return new Date().toISOString().slice(0, 10);
}

/** The values of the account choice, without "Every account". */
function accountChoices(page) {
  return page.$$eval('#filter-account option', (options) => options.map((option) => option.value).filter(Boolean));
}

test('the programme lead filters by dates and account, and merges a label', async () => {
  const { context, page } = await signIn(tokens.admin);
  const errors = watchErrors(page);
  assert.match(await page.textContent('#coverage'), /Answers received at any time, every account/);
  const accounts = await accountChoices(page);
  assert.ok(accounts.length >= 2, `accounts: ${accounts}`);
  const [first, second] = accounts;

  // A range that holds today, for the first account.
  await page.fill('#filter-from', '2020-01-01');
  await page.fill('#filter-to', today());
  await page.selectOption('#filter-account', first);
  await Promise.all([page.waitForURL(/only_account=/), page.click('#filter-apply')]);
  const coverage = await page.textContent('#coverage');
  assert.match(coverage, /Answers received 1 January 2020 – \d+ \w+ \d{4}, account \S/);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('from'), '2020-01-01');
  assert.equal(url.searchParams.get('only_account'), first);
  const summaryHref = await page.getAttribute('#summary-link', 'href');
  assert.match(summaryHref, /from=2020-01-01/);
  assert.match(summaryHref, new RegExp(`only_account=${encodeURIComponent(first)}`));
  assert.equal(await page.$eval('#filter-account', (select) => select.value), first);

  // A range before any answer: the figures say so.
  await page.fill('#filter-from', '2020-01-01');
  await page.fill('#filter-to', '2020-01-31');
  await Promise.all([page.waitForURL(/to=2020-01-31/), page.click('#filter-apply')]);
  assert.match(await page.textContent('#coverage'), /Answers received 1 January – 31 January 2020/);

  // A date that is not one, typed in the address: said next to the field.
  await page.goto(`${server.url}/dashboard?from=2026-02-30`);
  assert.match(await page.textContent('#filter-from-problem'), /is not a date/);

  // Clearing goes back to every answer.
  await page.click('#filter-clear');
  await page.waitForURL(/\/dashboard\?survey=/);
  assert.match(await page.textContent('#coverage'), /at any time, every account/);

  // Merge the second account into the first on the labels page.
  await page.click('#labels-link');
  await page.waitForURL(`${server.url}/dashboard/labels`);
  await page.selectOption('#rule-field', 'account');
  await page.fill('#rule-value', second);
  await page.check('#rule-merge');
  await page.fill('#rule-into', first);
  await Promise.all([page.waitForURL(`${server.url}/dashboard/labels`), page.click('#rule-add')]);
  assert.match(await page.textContent('#label-rules'), new RegExp(`“${second}” is counted as “${first}”`));
  assert.match(await page.textContent('main'), /label rule added/);

  await page.goto(`${server.url}/dashboard`);
  assert.match(await page.textContent('#label-rules-notice'), new RegExp(`“${second}” is counted as “${first}”`));
  const merged = await accountChoices(page);
  assert.ok(!merged.includes(second), `still offered: ${merged}`);
  assert.ok(merged.includes(first));

  // On a phone, nothing scrolls sideways, with the filter and the notice shown.
  for (const width of [375, 320]) {
    await page.setViewportSize({ width, height: 800 });
    await page.goto(`${server.url}/dashboard?from=2020-01-01&to=${today()}&only_account=${encodeURIComponent(first)}`);
    assert.equal(await overflow(page), 0, `page wider than ${width} px`);
    await page.goto(`${server.url}/dashboard/labels`);
    assert.equal(await overflow(page), 0, `labels page wider than ${width} px`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});
