// The results dashboard in headless Chromium against a real server on a real SQLite file,
// seeded by `rapport demo-seed` plus a few responses posted here: sign-in keeps the token
// out of URLs, each role sees what it may and nothing else, a confidential respondent's
// identity appears nowhere an account manager or a viewer can look, free text is escaped,
// a follow-up can be recorded, the CSV matches the report, axe finds nothing, and
// screenshots of every role at desktop and phone sizes are saved under artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startServer, launch, rapportBin, screenshot, watchErrors, parseCsv } from './support.mjs';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');

const SECRET_NAME = 'Sigrid Secretary';
const SECRET_EMAIL = 'sigrid.secretary@northwind.example';
const SCRIPT_TEXT = '<script>window.__injected = 1</script>';
const IMG_TEXT = '<img src=x onerror="window.__injected = 2">';
const ESCAPE_NAME = 'Xavier Escape';

let server;
let browser;
const tokens = {};

/** Posts one client-portal response through the public API. */
async function post(fields) {
  const body = {
    format: 1,
    response_id: randomUUID(),
    survey_id: 'client-portal',
    survey_version: 1,
    locale: 'en',
    submitted_at: '2026-11-20T10:00:00Z',
    ...fields,
  };
  const response = await fetch(`${server.url}/api/v1/surveys/client-portal/responses`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(response.status, 201, await response.text());
}

before(async () => {
  server = await startServer();
  // The demo programme first (it only seeds an empty survey), then the responses this test
  // looks for: six invited confidential detractors at northwind with a known identity, and one
  // identified detractor there whose answers hold markup.
  const seeded = execFileSync(rapportBin, ['demo-seed', '--responses', '400', '--database-url', server.databaseUrl, '--identity-key-file', `${server.dir}/identity.key`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  for (const line of seeded.trim().split('\n')) {
    const [role, accounts, token] = line.trim().split(/\s+/);
    tokens[role] = token;
    if (role === 'account') assert.equal(accounts, 'northwind');
  }
  assert.ok(tokens.admin && tokens.account && tokens.viewer, seeded);
  // The confidential detractors answer emailed invitations, as `rapport invite` makes them:
  // only verified confidential answers ever reach an account manager, in whole batches.
  for (let idx = 0; idx < 6; idx++) {
    const link = execFileSync(rapportBin, [
      'invite', '--survey', 'client-portal', '--contact', SECRET_EMAIL, '--name', SECRET_NAME,
      '--account', 'northwind', '--wave', '2026-h2', '--base-url', server.url,
      '--database-url', server.databaseUrl, '--identity-key-file', `${server.dir}/identity.key`,
    ], { encoding: 'utf8' }).trim();
    await post({
      answers: { nps: 2, trust: 2, commitment: 3, satisfaction: 2, uniqueness: 2, reliability: 3, responsiveness: 2, care: 2, weakness: 'Nobody listens', role: 'day-to-day' },
      confidentiality: 'confidential',
      identity: { name: SECRET_NAME, email: SECRET_EMAIL, organisation: 'Northwind' },
      invitation: link.slice(link.lastIndexOf('/') + 1),
    });
  }
  await post({
    answers: { nps: 3, trust: 2, commitment: 4, satisfaction: 3, uniqueness: 3, reliability: 2, responsiveness: 2, care: 3, strength: IMG_TEXT, weakness: SCRIPT_TEXT, role: 'operational' },
    confidentiality: 'identified',
    identity: { name: ESCAPE_NAME, email: 'xavier.escape@northwind.example', organisation: 'Northwind' },
    context: { account: 'northwind', wave: '2026-h2' },
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The API's answer for `path` with a bearer token. */
async function api(path, token) {
  const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
  return path.endsWith('.csv') ? response.text() : response.json();
}

/**
 * Signs in through the form in a fresh context and returns { context, page, bodies }, where
 * `bodies` collects the text of every response the page received.
 */
async function signIn(token, { viewport = { width: 1280, height: 800 }, bypassCSP = false } = {}) {
  const context = await browser.newContext({ viewport, bypassCSP });
  const page = await context.newPage();
  const bodies = [];
  const urls = [];
  page.on('request', (request) => urls.push(request.url()));
  page.on('response', async (response) => {
    try {
      bodies.push(`${response.url()}\n${await response.text()}`);
    } catch {
      // A redirect has no body to read.
    }
  });
  await page.goto(`${server.url}/dashboard`);
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${server.url}/dashboard`), page.click('.login-form button')]);
  assert.ok(urls.every((url) => !url.includes(token)), 'the token never appears in a URL');
  return { context, page, bodies, urls };
}

async function axeViolations(page) {
  await page.addScriptTag({ path: axePath });
  return page.evaluate(async () => {
    const results = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return results.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  });
}

/** Parses CSV with quoted cells (as `export::csv_cell` writes them) into records by column. */
function parseCsvRecords(text) {
  const [header, ...records] = parseCsv(text);
  return records.map((record) => Object.fromEntries(header.map((name, idx) => [name, record[idx]])));
}

test('without a session the dashboard shows only the sign-in form, and a wrong token is refused', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/dashboard`);
  assert.equal(await page.locator('#token').getAttribute('type'), 'password');
  assert.equal(await page.locator('#pyramid').count(), 0);
  await page.fill('#token', 'rpt_not_a_real_token');
  await page.click('.login-form button');
  await page.locator('#login-error').waitFor();
  assert.equal(await page.locator('#pyramid').count(), 0);
  assert.deepEqual(await context.cookies(), [], 'no session for a refused token');
  await screenshot(page, 'dashboard-sign-in-refused');
  await context.close();
});

test('the session is an HttpOnly, SameSite=Strict cookie for /dashboard, and signing out ends it', async () => {
  const { context, page } = await signIn(tokens.admin);
  const [cookie, ...others] = await context.cookies();
  assert.equal(others.length, 0);
  assert.equal(cookie.name, 'rapport_session');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.path, '/dashboard');
  assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session');
  await Promise.all([page.waitForURL(`${server.url}/dashboard`), page.click('text=Sign out')]);
  await page.locator('#token').waitFor();
  assert.deepEqual(await context.cookies(), []);
  await context.close();
});

test('a form posted from another site is refused', async () => {
  const forged = await fetch(`${server.url}/dashboard/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
    body: `token=${tokens.admin}`,
    redirect: 'manual',
  });
  assert.equal(forged.status, 403);
  assert.equal(forged.headers.get('set-cookie'), null);
  const followUp = await fetch(`${server.url}/dashboard/surveys/client-portal/follow-ups`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example', cookie: `rapport_session=${tokens.admin}` },
    body: 'subject=flag&account=northwind&wave=2026-h2&status=done',
    redirect: 'manual',
  });
  assert.equal(followUp.status, 403);
});

test('the programme lead sees every section, every account and the CSV download', async () => {
  const { context, page } = await signIn(tokens.admin);
  const errors = watchErrors(page);
  await page.locator('#pyramid-chart').waitFor();
  for (const id of ['summary', 'distribution', 'pyramid', 'categories', 'trend', 'segments', 'confidentiality', 'waves', 'topics', 'follow-ups']) {
    assert.equal(await page.locator(`#${id}`).count(), 1, `section ${id}`);
  }
  const report = await api('/api/v1/surveys/client-portal/report?by=account', tokens.admin);
  assert.equal(await page.locator('#n-responses').textContent(), String(report.n));
  const nps = Math.round(report.report.overall.nps.nps);
  assert.equal((await page.locator('#nps-value').textContent()).replace('\u2212', '-').replace('+', ''), String(nps));
  const accountTable = page.locator('#segments table', { hasText: 'By account' });
  for (const group of report.report.segments[0].groups) {
    assert.ok(await accountTable.locator('tbody th', { hasText: group.value }).count() >= 1, `account ${group.value} listed`);
  }
  assert.equal(await page.locator('#csv-download').count(), 1);
  // Every chart has an accessible name and description.
  for (const chart of await page.locator('svg.chart').all()) {
    assert.equal(await chart.getAttribute('role'), 'img');
    assert.ok((await chart.locator('title').textContent()).length > 0);
    assert.ok((await chart.locator('desc').textContent()).length > 0);
  }
  // The confidentiality finding is stated in words.
  assert.match(await page.locator('#nps-test').textContent(), /^Confidential respondents score [\d.]+ (lower|higher) than identified ones .*(unlikely to be chance|could well be chance): chance alone would give a gap this large (less than|about) 1 time in [\d,]+\.$/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('an account manager sees their account only, and no confidential identity anywhere', async () => {
  const { context, page, bodies } = await signIn(tokens.account);
  await page.locator('#pyramid-chart').waitFor();
  const report = await api('/api/v1/surveys/client-portal/report?by=account', tokens.account);
  assert.deepEqual(report.report.segments[0].groups.map((group) => group.value), ['northwind']);
  assert.equal(await page.locator('#n-responses').textContent(), String(report.n));
  const html = await page.content();
  for (const other of ['contoso', 'fabrikam', 'globex', 'initech', 'tailspin']) {
    assert.ok(!html.includes(other), `another account (${other}) shows`);
  }
  assert.equal(await page.locator('#csv-download').count(), 1);
  assert.match(await page.locator('.title-row .meta').textContent(), /account manager for northwind/);
  // The confidential detractors flag their account without saying who or what; the list
  // waits, folded, under its heading.
  await page.locator('#follow-ups summary').click();
  await page.locator('.item.flag', { hasText: '2026-h2' }).first().waitFor();
  const csv = await (await context.request.get(`${server.url}/dashboard/surveys/client-portal/responses.csv`)).text();
  const rows = parseCsvRecords(csv);
  assert.ok(rows.length > 0);
  assert.ok(rows.every((row) => row.account === 'northwind' && row.confidentiality === 'identified'));
  for (const [what, text] of [['page', html], ['network responses', bodies.join('\n')], ['CSV', csv]]) {
    assert.ok(!text.includes(SECRET_NAME) && !text.includes(SECRET_EMAIL), `the ${what} shows a confidential identity`);
  }
  await context.close();
});

test('a viewer sees aggregates only: no CSV, no close-the-loop list, no identity', async () => {
  const { context, page, bodies } = await signIn(tokens.viewer);
  await page.locator('#pyramid-chart').waitFor();
  assert.equal(await page.locator('#csv-download').count(), 0);
  assert.equal(await page.locator('#follow-ups').count(), 0);
  assert.equal(await page.locator('a[href="#follow-ups"]').count(), 0);
  const csv = await context.request.get(`${server.url}/dashboard/surveys/client-portal/responses.csv`);
  assert.equal(csv.status(), 403);
  const csvText = await csv.text();
  const html = await page.content();
  assert.ok(!html.includes(ESCAPE_NAME), 'a viewer sees no respondent');
  for (const [what, text] of [['page', html], ['network responses', bodies.join('\n')], ['CSV answer', csvText]]) {
    assert.ok(!text.includes(SECRET_NAME) && !text.includes(SECRET_EMAIL), `the ${what} shows a confidential identity`);
  }
  await context.close();
});

test('markup in answers is shown as text, never run', async () => {
  const { context, page } = await signIn(tokens.account);
  await page.goto(`${server.url}/dashboard?survey=client-portal&account=northwind#follow-ups`);
  const item = page.locator('.item', { hasText: ESCAPE_NAME });
  await item.waitFor();
  assert.equal(await item.locator('dd', { hasText: SCRIPT_TEXT }).count(), 1, 'the weakness is shown literally');
  assert.equal(await item.locator('dd', { hasText: IMG_TEXT }).count(), 1, 'the strength is shown literally');
  assert.equal(await page.locator('main script, main img').count(), 0);
  assert.equal(await page.evaluate(() => window.__injected), undefined);
  const html = await page.content();
  assert.ok(html.includes('&lt;script&gt;window.__injected = 1&lt;/script&gt;'));
  await context.close();
});

test('an account manager records a follow-up, and it is saved', async () => {
  const { context, page } = await signIn(tokens.account);
  await page.goto(`${server.url}/dashboard?survey=client-portal&account=northwind#follow-ups`);
  const item = page.locator('.item', { hasText: ESCAPE_NAME });
  await item.locator('select[name=status]').selectOption('done');
  await item.locator('input[name=note]').fill('Met on Monday; agreed weekly updates');
  await Promise.all([page.waitForURL(/saved=1/), item.locator('button').click()]);
  await page.locator('.saved').waitFor();
  const saved = page.locator('.item', { hasText: ESCAPE_NAME });
  assert.equal(await saved.locator('select[name=status]').inputValue(), 'done');
  assert.equal(await saved.locator('input[name=note]').inputValue(), 'Met on Monday; agreed weekly updates');
  const list = await api('/api/v1/surveys/client-portal/follow-ups', tokens.account);
  const stored = list.accounts.flatMap((account) => account.items).find((entry) => entry.respondent?.name === ESCAPE_NAME);
  assert.equal(stored.follow_up.status, 'done');
  assert.equal(stored.follow_up.note, 'Met on Monday; agreed weekly updates');
  // The account's confidential-feedback flag has its own status.
  const flag = page.locator('.item.flag', { hasText: '2026-h2' });
  await flag.locator('select[name=status]').selectOption('in_progress');
  await Promise.all([page.waitForURL(/saved=1/), flag.locator('button').click()]);
  assert.equal(await page.locator('.item.flag', { hasText: '2026-h2' }).locator('select[name=status]').inputValue(), 'in_progress');
  await context.close();
});

test('the downloaded CSV holds exactly the rows behind the report', async () => {
  const { context, page } = await signIn(tokens.admin);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv-download')]);
  const rows = parseCsvRecords(readFileSync(await download.path(), 'utf8'));
  const report = await api('/api/v1/surveys/client-portal/report?by=account,wave,confidentiality', tokens.admin);
  assert.equal(rows.length, report.n);
  const overall = report.report.overall;
  assert.equal(rows.filter((row) => row.nps_category === 'promoter').length, overall.nps.promoters);
  assert.equal(rows.filter((row) => row.nps_category === 'detractor').length, overall.nps.detractors);
  for (const [field, segmentation] of [['account', 0], ['wave', 1], ['confidentiality', 2]]) {
    for (const group of report.report.segments[segmentation].groups) {
      assert.equal(rows.filter((row) => row[field] === group.value).length, group.n, `${field} ${group.value}`);
    }
  }
  // The admin's export is the one place identity appears, which shows the search above can find it.
  assert.ok(rows.some((row) => row.email === SECRET_EMAIL));
  await context.close();
});

test('axe finds no violation on any dashboard page, and screenshots of every role are saved', async () => {
  for (const [role, token] of [['admin', tokens.admin], ['account', tokens.account], ['viewer', tokens.viewer]]) {
    for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
      const { context, page } = await signIn(token, { viewport, bypassCSP: true });
      await page.locator('#pyramid-chart').waitFor();
      await screenshot(page, `dashboard-${role}-${viewport.width}x${viewport.height}`);
      assert.deepEqual(await axeViolations(page), [], `${role} at ${viewport.width}px`);
      await context.close();
    }
  }
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${server.url}/dashboard`);
  await screenshot(page, 'dashboard-sign-in');
  assert.deepEqual(await axeViolations(page), [], 'sign-in form');
  await context.close();
});
