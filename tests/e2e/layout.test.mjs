// The dashboard and its one-page summary as a managing partner reads them, on a desktop and
// on a phone, in headless Chromium driven through the DevTools protocol against a real server
// seeded by `rapport demo-seed`: the page never scrolls sideways (wide tables and charts
// scroll inside their own frames), chart text stays readable at 375 px, detail sections fold
// and unfold, and the summary prints on one A4 page. Screenshots at 1280 and 375 px are
// saved in a temporary directory, whose path the test prints.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { startServer, launch, rapportBin, watchErrors } from './support.mjs';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const shots = mkdtempSync(path.join(tmpdir(), 'rapport-layout-'));
/** The smallest chart text, in CSS pixels, that a phone of 375 px may show. */
const SMALLEST_TEXT_PX = 11;

let server;
let browser;
const tokens = {};

before(async () => {
  server = await startServer();
  const seeded = execFileSync(rapportBin, ['demo-seed', '--responses', '400', '--database-url', server.databaseUrl, '--identity-key-file', `${server.dir}/identity.key`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  for (const line of seeded.trim().split('\n')) {
    const [role, , token] = line.trim().split(/\s+/);
    tokens[role] = token;
  }
  assert.ok(tokens.admin && tokens.account, seeded);
  browser = await launch();
  console.log(`screenshots in ${shots}`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Signs in through the form; returns the page and a DevTools session on it. */
async function signIn(token) {
  // The CSP is bypassed only so that axe can be injected; the pages run no script of their own.
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${server.url}/dashboard`);
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${server.url}/dashboard`), page.click('.login-form button')]);
  const cdp = await context.newCDPSession(page);
  return { context, page, cdp };
}

/** Lays the page out as a screen `width` CSS pixels wide (a phone below 600). */
async function atWidth(cdp, width) {
  await cdp.send('Emulation.setDeviceMetricsOverride', { width, height: 800, deviceScaleFactor: 1, mobile: width < 600 });
}

/** A full-page screenshot through the DevTools protocol, saved as `name`.png. */
async function capture(cdp, name) {
  const { cssContentSize } = await cdp.send('Page.getLayoutMetrics');
  const { data } = await cdp.send('Page.captureScreenshot', {
    format: 'png',
    captureBeyondViewport: true,
    clip: { x: 0, y: 0, width: cssContentSize.width, height: cssContentSize.height, scale: 1 },
  });
  writeFileSync(path.join(shots, `${name}.png`), Buffer.from(data, 'base64'));
}

/**
 * What the layout looks like: how wide the page is, its height, and the
 * smallest rendered size of any chart text that is drawn (its font size times the scale
 * from the chart's units to CSS pixels), with the text that has it.
 */
function measure(page) {
  return page.evaluate(() => {
    const drawn = [...document.querySelectorAll('svg.chart text')].filter((text) => text.getClientRects().length > 0);
    const sizes = drawn.map((text) => ({
      px: parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a,
      what: `${text.closest('svg').id}: ${text.textContent}`,
    }));
    const smallest = sizes.reduce((least, size) => (size.px < least.px ? size : least), { px: Infinity, what: 'no chart text' });
    return {
      scrollWidth: document.scrollingElement.scrollWidth,
      height: document.scrollingElement.scrollHeight,
      texts: sizes.length,
      smallest,
    };
  });
}

/**
 * The page is no wider than the screen. It is compared with the width the screen was given,
 * not with `innerWidth`: a phone widens its layout viewport to a page that is too wide.
 */
function assertNoSidewaysScroll(layout, width, where) {
  assert.ok(layout.scrollWidth <= width, `${where}: the page is ${layout.scrollWidth} px wide on a ${width} px screen`);
}

function assertReadable(layout, where) {
  assert.ok(layout.texts > 0, `${where}: no chart text was measured`);
  assert.ok(layout.smallest.px >= SMALLEST_TEXT_PX, `${where}: chart text of ${layout.smallest.px.toFixed(1)} px (${layout.smallest.what})`);
}

/** Opens every folded section, as a reader who wants everything would. */
function unfoldAll(page) {
  return page.evaluate(() => { for (const details of document.querySelectorAll('details')) details.open = true; });
}

/** Prints the page to PDF as the browser's print dialog would, saves it, and counts its pages. */
async function printedPages(cdp, name) {
  const { data } = await cdp.send('Page.printToPDF', { preferCSSPageSize: true, printBackground: true });
  const pdf = Buffer.from(data, 'base64');
  writeFileSync(path.join(shots, `${name}.pdf`), pdf);
  return (pdf.toString('latin1').match(/\/Type\s*\/Page(?![a-zA-Z])/g) ?? []).length;
}

async function axeViolations(page) {
  await page.addScriptTag({ path: axePath });
  return page.evaluate(async () => {
    const results = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return results.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  });
}

test('the dashboard folds its detail sections and never scrolls sideways, at 1280, 375 and 320 px', { timeout: 120_000 }, async () => {
  const { context, page, cdp } = await signIn(tokens.admin);
  const errors = watchErrors(page);
  await atWidth(cdp, 1280);
  await page.locator('#pyramid-chart').waitFor();

  // Headline sections are open; detail sections show their heading only.
  for (const id of ['summary', 'distribution', 'pyramid', 'drivers', 'trend', 'topics', 'emerging']) {
    assert.equal(await page.locator(`#${id} > details.fold`).getAttribute('open'), '', `${id} is open`);
  }
  for (const id of ['segments', 'confidentiality', 'waves', 'follow-ups']) {
    assert.equal(await page.locator(`#${id} > details.fold[open]`).count(), 0, `${id} is folded`);
    assert.ok(await page.getByRole('heading', { level: 2, name: await page.locator(`#${id}-heading`).textContent() }).isVisible(), `${id} shows its heading`);
  }
  const folded = await measure(page);
  assertNoSidewaysScroll(folded, 1280, 'dashboard at 1280 px');
  await capture(cdp, 'dashboard-1280');

  // A folded section opens on a click on its heading, and by keyboard, and folds again.
  const segments = page.locator('#segments');
  assert.equal(await segments.locator('table').first().isVisible(), false);
  await segments.locator('summary').click();
  assert.equal(await segments.locator('table').first().isVisible(), true);
  await segments.locator('summary').click();
  assert.equal(await segments.locator('table').first().isVisible(), false);
  await page.locator('#waves summary').focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#waves > details.fold[open]').count(), 1);

  await unfoldAll(page);
  const unfolded = await measure(page);
  assert.ok(folded.height < unfolded.height - 1000, `folding saves room: ${folded.height} px folded, ${unfolded.height} px open`);
  assertNoSidewaysScroll(unfolded, 1280, 'dashboard at 1280 px, every section open');

  for (const width of [375, 320]) {
    await atWidth(cdp, width);
    await page.reload();
    await page.locator('#pyramid-chart').waitFor();
    await capture(cdp, `dashboard-${width}`);
    assertNoSidewaysScroll(await measure(page), width, `dashboard at ${width} px`);
    await unfoldAll(page);
    const layout = await measure(page);
    assertNoSidewaysScroll(layout, width, `dashboard at ${width} px, every section open`);
    // What matters most: its sentence, chart and tables stay inside the screen; the chart
    // scrolls in its own frame if it must.
    const drivers = await page.locator('#drivers').evaluate((section) => ({
      right: Math.max(...[...section.querySelectorAll('*')].filter((element) => !element.parentElement.closest('.chart-frame, .scroll')).map((element) => element.getBoundingClientRect().right)),
      chart: section.querySelector('#drivers-chart') !== null,
      headline: section.querySelector('#drivers-headline')?.textContent ?? '',
    }));
    assert.ok(drivers.chart, `what matters most has its chart at ${width} px`);
    assert.match(drivers.headline, /matters most to whether clients recommend you/);
    assert.ok(drivers.right <= width, `what matters most reaches ${drivers.right} px on a ${width} px screen`);
    // The demo's second wave brings a weakness nobody named before: the section names it in
    // words and stays within the screen, quotes and all.
    const emerging = page.locator('#emerging');
    assert.match(await emerging.textContent(), /New this wave: handover, named by \d+% of respondents/);
    const box = await emerging.boundingBox();
    assert.ok(box.x + box.width <= width, `the new-words section ends at ${box.x + box.width} px on a ${width} px screen`);
    if (width === 375) {
      assertReadable(layout, 'dashboard at 375 px');
      // A chart too wide for the phone scrolls inside its own frame, which the keyboard reaches.
      const frame = page.locator('#trend .chart-frame');
      assert.ok(await frame.evaluate((element) => element.scrollWidth > element.clientWidth), 'the trend chart scrolls in its frame');
      assert.equal(await frame.getAttribute('tabindex'), '0');
      assert.deepEqual(await axeViolations(page), [], 'dashboard at 375 px, every section open');
    }
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('the one-page summary repeats the dashboard’s figures in plain words and prints on one A4 page', { timeout: 120_000 }, async () => {
  const { context, page, cdp } = await signIn(tokens.admin);
  const errors = watchErrors(page);
  await atWidth(cdp, 1280);
  const nps = await page.locator('#nps-value').textContent();
  const responses = await page.locator('#n-responses').textContent();
  await Promise.all([page.waitForURL(/\/dashboard\/summary\?survey=/), page.click('#summary-link')]);

  assert.equal(await page.locator('#brief-nps-value').textContent(), nps);
  assert.equal(await page.locator('#brief-responses').textContent(), responses);
  assert.match(await page.locator('#brief-nps .sub').textContent(), /^Very likely between [+\u22120-9]+ and [+\u22120-9]+ \(95% interval\), from \d+ answers$/);
  for (const id of ['brief-nps-bar', 'brief-pyramid-chart', 'brief-trend-chart']) {
    assert.equal(await page.locator(`#${id}`).count(), 1, `the summary shows ${id}`);
  }
  assert.ok(await page.locator('.topic-list li').count() >= 2, 'strengths and weaknesses are listed');
  const text = await page.locator('main').innerText();
  for (const jargon of ['Welch', 'p <', 'p =', 'Stalker', 'Opponent', 'Ambassador']) {
    assert.ok(!text.includes(jargon), `the summary says ${jargon}`);
  }

  for (const width of [1280, 375]) {
    await atWidth(cdp, width);
    await page.reload();
    await capture(cdp, `summary-${width}`);
    const layout = await measure(page);
    assertNoSidewaysScroll(layout, width, `summary at ${width} px`);
    if (width === 375) assertReadable(layout, 'summary at 375 px');
    assert.deepEqual(await axeViolations(page), [], `summary at ${width} px`);
  }

  // Printed, it has no navigation and fits one A4 page.
  await atWidth(cdp, 1280);
  await cdp.send('Emulation.setEmulatedMedia', { media: 'print' });
  assert.equal(await page.locator('.summary-bar').isVisible(), false, 'no navigation in print');
  await capture(cdp, 'summary-print');
  await cdp.send('Emulation.setEmulatedMedia', { media: '' });
  const pages = await printedPages(cdp, 'summary');
  assert.equal(pages, 1, `the summary prints on ${pages} pages`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('an account manager’s summary covers their account only, fits one page, and needs a session', async () => {
  const signedOut = await fetch(`${server.url}/dashboard/summary?survey=client-portal`, { redirect: 'manual' });
  assert.equal(signedOut.status, 303);
  assert.equal(signedOut.headers.get('location'), '/dashboard');

  const { context, page, cdp } = await signIn(tokens.account);
  await page.goto(`${server.url}/dashboard/summary?survey=client-portal`);
  // Beside the admin's figures, it says how confidential answers are published, and still
  // prints on one page.
  assert.equal(await page.locator('#publication').count(), 1);
  const pages = await printedPages(cdp, 'summary-account');
  assert.equal(pages, 1, `the account manager's summary prints on ${pages} pages`);
  assert.match(await page.locator('.one-page .meta').textContent(), /account manager for northwind/);
  const report = await (await fetch(`${server.url}/api/v1/surveys/client-portal/report`, { headers: { authorization: `Bearer ${tokens.account}` } })).json();
  assert.equal(await page.locator('#brief-responses').textContent(), String(report.report.overall.n));
  const html = await page.content();
  for (const other of ['contoso', 'fabrikam', 'globex', 'initech', 'tailspin']) {
    assert.ok(!html.includes(other), `another account (${other}) shows`);
  }
  await context.close();
});
