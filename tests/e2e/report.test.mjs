// The whole path, on each backend: a client answers in the widget in the demo portal, the
// server stores and rescores the answer, and the programme lead's report and
// close-the-loop list show it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, launch, rapportBin, watchErrors } from './support.mjs';

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

/** A new, empty database beside the one RAPPORT_TEST_POSTGRES_URL names. */
function freshPostgres() {
  const server = process.env.RAPPORT_TEST_POSTGRES_URL;
  if (!server) throw new Error('RAPPORT_TEST_POSTGRES_URL is not set: `cargo xtask test` starts a PostgreSQL for this test');
  const name = `rapport_e2e_${process.pid}_${Date.now()}`;
  execFileSync('psql', [server, '--quiet', '--command', `CREATE DATABASE ${name}`]);
  return `${server.slice(0, server.lastIndexOf('/'))}/${name}`;
}

const backends = [['SQLite', () => undefined], ['PostgreSQL', freshPostgres]];

for (const [name, database] of backends) {
  test(`on ${name}, an answer given in the widget shows in the report and on the close-the-loop list`, async () => {
    const server = await startServer([], { databaseUrl: database() });
    try {
      const token = execFileSync(rapportBin, ['token', 'create', '--role', 'admin', '--database-url', server.databaseUrl], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      const api = async (path) => {
        const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
        return response.json();
      };
      const empty = await api('/api/v1/surveys/client-portal/report');
      assert.equal(empty.n, 0);

      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const errors = watchErrors(page);
      await page.goto(`${server.url}/`);
      await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '3', exact: true }).click();
      for (const [statement, rating] of [[/trust you/, '2'], [/truly different/, '4'], [/genuinely care/, '3']]) {
        await page.getByRole('radiogroup', { name: statement }).getByRole('radio', { name: rating, exact: true }).click();
      }
      await page.getByLabel(/greatest weakness/).fill('Invoices are a surprise every month.');
      const detail = page.evaluate(() => new Promise((resolve) => {
        document.addEventListener('rapport:submitted', (event) => resolve(event.detail), { once: true });
      }));
      await page.getByRole('button', { name: 'Send my answers' }).click();
      const submitted = await detail;
      await page.getByText('Thank you for your feedback').waitFor();
      assert.deepEqual(errors, []);
      await context.close();

      const after = await api('/api/v1/surveys/client-portal/report');
      assert.equal(after.n, 1);
      const overall = after.report.overall;
      assert.equal(overall.n, 1);
      // The only response is a detractor: NPS −100, 0–10 mean 3.
      assert.equal(overall.nps.detractors, 1);
      assert.equal(overall.nps.nps, -100);
      assert.equal(overall.nps.mean, 3);
      // The server's CRQ is the browser's provisional one: (2 + 4 + 3) / 3 = 3.
      assert.equal(submitted.provisional.crq, 3);
      assert.equal(overall.crq.mean, 3);

      // Confidential by default in the portal, so it flags Northwind without saying who or what.
      const loop = await api('/api/v1/surveys/client-portal/follow-ups');
      const northwind = loop.accounts.find((account) => account.account === 'northwind');
      assert.deepEqual(northwind.items, []);
      assert.equal(northwind.confidential_feedback.length, 1);
      assert.equal(northwind.confidential_feedback[0].wave, '2026-h2');
      assert.ok(!JSON.stringify(loop).includes('Invoices are a surprise'));
    } finally {
      await server.stop();
    }
  });
}
