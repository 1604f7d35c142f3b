// The survey block of the thank-you email, as a phone's mail client shows it: `rapport invite
// --email-block html` prints it; at 320 px the eleven numbers fit without scrolling, on one
// or two tidy rows, none broken. A number clicked opens the landing page with that number
// chosen and already stored, once, whether the client then completes the survey or leaves;
// a mail scanner fetching every link stores nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startServer, launch, screenshot, storedCount, watchErrors, repoRoot } from './support.mjs';

let server;
let browser;
let admin;
const bin = process.env.RAPPORT_BIN || path.join(repoRoot, 'target/release/rapport');
const SURVEY = 'post-negotiation';

/** Runs `rapport` on the test server's database (and its identity key, with `key`). */
function rapport(args, { key = true } = {}) {
  const keyArgs = key ? ['--identity-key-file', path.join(server.dir, 'identity.key')] : [];
  return execFileSync(bin, [
    ...args, '--database-url', `sqlite://${path.join(server.dir, 'e2e.db')}`, ...keyArgs,
  ], { encoding: 'utf8' });
}

/** The HTML block of a new invitation for `contact`. */
function emailBlock(contact, name) {
  return rapport([
    'invite', '--survey', SURVEY, '--contact', contact, '--name', name,
    '--account', 'northwind', '--matter', 'msa-2026', '--wave', '2026-h2',
    '--firm', 'Hartley & Voss LLP', '--matter-name', 'Smith & <Sons> 2026',
    '--base-url', server.url, '--email-block', 'html',
  ]).trim();
}

/** The rows of CSV text, quoted cells holding commas, quotes and line breaks. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let idx = 0; idx < text.length; idx += 1) {
    const character = text[idx];
    if (quoted) {
      if (character === '"' && text[idx + 1] === '"') {
        cell += '"';
        idx += 1;
      } else if (character === '"') {
        quoted = false;
      } else {
        cell += character;
      }
    } else if (character === '"') {
      quoted = true;
    } else if (character === ',') {
      row.push(cell);
      cell = '';
    } else if (character === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else if (character !== '\r') {
      cell += character;
    }
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

/** The stored answers to the 0–10 question of `email`'s responses, as the admin reads them. */
async function storedAnswers(email) {
  // Node's fetch: the API is `no-store`, which some browsers will not read back.
  const response = await fetch(`${server.url}/api/v1/surveys/${SURVEY}/responses.csv`, {
    headers: { authorization: `Bearer ${admin}` },
  });
  assert.equal(response.status, 200);
  const [header, ...rows] = parseCsv(await response.text());
  const emailColumn = header.indexOf('email');
  const npsColumn = header.indexOf('nps');
  return rows.filter((row) => row[emailColumn] === email).map((row) => row[npsColumn]);
}

/** Shows `html` as a mail client does, in a page of `width` px with no script of its own. */
async function showEmail(context, html) {
  const page = await context.newPage();
  await page.setContent(`<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="margin:8px"><p>Dear Ana, thank you again for your trust in this negotiation.</p>${html}</body></html>`);
  return page;
}

before(async () => {
  server = await startServer();
  admin = rapport(['token', 'create', '--role', 'admin'], { key: false }).trim();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('at 320 px the scale fits on one or two tidy rows, and every number stays whole', { timeout: 60_000 }, async () => {
  const html = emailBlock('layout@client.example', 'Lee');
  assert.ok(!/<script|<img|url\(|<style|<link/i.test(html), 'the block is mail-safe');
  const context = await browser.newContext({ viewport: { width: 320, height: 640 }, javaScriptEnabled: false });
  const page = await showEmail(context, html);
  const layout = await page.evaluate(() => {
    const anchors = [...document.querySelectorAll('a')];
    return {
      pageWidth: document.documentElement.scrollWidth,
      escaped: document.body.innerText.includes('Smith & <Sons> 2026'),
      numbers: anchors.map((anchor) => {
        const box = anchor.getBoundingClientRect();
        const range = document.createRange();
        range.selectNodeContents(anchor);
        return {
          text: anchor.textContent.trim(),
          href: anchor.getAttribute('href'),
          left: box.left,
          right: box.right,
          top: Math.round(box.top),
          lineBoxes: range.getClientRects().length,
          overflows: anchor.scrollWidth > anchor.clientWidth + 1,
          tall: box.height >= 44 || box.height < 18,
        };
      }),
    };
  });
  await screenshot(page, 'email-block-320');
  assert.ok(layout.pageWidth <= 320, `the email scrolls sideways: ${layout.pageWidth} px`);
  assert.ok(layout.escaped, 'the matter name shows as written');
  assert.equal(layout.numbers.length, 11);
  layout.numbers.forEach((number, value) => {
    assert.equal(number.text, String(value));
    assert.ok(number.href.endsWith(`?answer=${value}`), number.href);
    assert.equal(number.lineBoxes, 1, `${value} is broken over lines`);
    assert.ok(!number.overflows, `${value} spills out of its button`);
    assert.ok(number.left >= 0 && number.right <= 320, `${value} is outside the screen`);
    assert.ok(!number.tall, `${value} has a button of an odd height`);
  });
  // One or two rows, each left to right in order, with no row holding a lone straggler.
  const rows = [...new Set(layout.numbers.map((number) => number.top))].sort((a, b) => a - b);
  assert.ok(rows.length <= 2, `the numbers take ${rows.length} rows`);
  for (const top of rows) {
    const row = layout.numbers.filter((number) => number.top === top);
    assert.ok(row.length >= 5, `a row of ${row.length}`);
    for (let idx = 1; idx < row.length; idx += 1) {
      assert.ok(row[idx].left > row[idx - 1].left && Number(row[idx].text) === Number(row[idx - 1].text) + 1);
    }
  }
  await context.close();
});

test('a click stores that number once, and a client who leaves still counts', { timeout: 60_000 }, async () => {
  const html = emailBlock('leaves@client.example', 'Ana');
  const links = [...html.matchAll(/href="([^"]+)"/g)].map((match) => match[1].replaceAll('&amp;', '&'));
  assert.equal(links.length, 11);
  const before = await storedCount(server, SURVEY);

  // A mail scanner fetches every link first: that stores nothing.
  for (const link of links) assert.equal((await fetch(link)).status, 200);
  assert.equal(await storedCount(server, SURVEY), before, 'a prefetch recorded an answer');

  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const email = await showEmail(context, html);
  const errors = watchErrors(email);
  await Promise.all([email.waitForURL(/\/s\//), email.getByRole('link', { name: '7', exact: true }).click()]);
  await email.getByText('Thank you: your answer is saved.', { exact: false }).waitFor();
  const seven = email.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '7', exact: true });
  await seven.waitFor();
  assert.ok(await seven.isChecked(), 'the clicked number is chosen in the survey');
  await screenshot(email, 'email-block-landing-320');
  assert.deepEqual(errors, []);
  // The client closes the page without sending anything more.
  await context.close();
  assert.equal(await storedCount(server, SURVEY), before + 1);
  assert.deepEqual(await storedAnswers('leaves@client.example'), ['7']);

  // Clicking again later, even another number, stores nothing more: the survey opens with
  // that number chosen, and only sending the survey would replace the answer.
  const again = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await again.newPage();
  await page.goto(links[4]);
  await page.getByText('You have already answered this survey.', { exact: false }).waitFor();
  const four = page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '4', exact: true });
  await four.waitFor();
  assert.ok(await four.isChecked());
  await again.close();
  assert.equal(await storedCount(server, SURVEY), before + 1);
  assert.deepEqual(await storedAnswers('leaves@client.example'), ['7']);
});

test('a client who clicks and then completes the survey has one response, the complete one', { timeout: 60_000 }, async () => {
  const html = emailBlock('completes@client.example', 'Bo');
  const before = await storedCount(server, SURVEY);
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const email = await showEmail(context, html);
  const errors = watchErrors(email);
  await Promise.all([email.waitForURL(/\/s\//), email.getByRole('link', { name: '3', exact: true }).click()]);
  await email.getByText('Thank you: your answer is saved.', { exact: false }).waitFor();
  assert.equal(await storedCount(server, SURVEY), before + 1);
  assert.deepEqual(await storedAnswers('completes@client.example'), ['3']);
  // The client thinks again, answers the rest and sends.
  await email.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '8', exact: true }).click();
  await email.getByRole('button', { name: 'Send my answers' }).click();
  await email.getByRole('heading', { name: 'Thank you, Bo.' }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
  assert.equal(await storedCount(server, SURVEY), before + 1, 'completing added a second response');
  assert.deepEqual(await storedAnswers('completes@client.example'), ['8']);
});
