// Shared helpers for the end-to-end tests: start a real `rapport serve` on a free port
// with a throwaway SQLite database, launch headless Chromium, and save screenshots.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitFor(url, deadlineMs = 30000) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer within ${deadlineMs} ms`);
}

export const rapportBin = process.env.RAPPORT_BIN || path.join(repoRoot, 'target/release/rapport');

/**
 * Starts `rapport serve`; returns { url, stop(), restart(), dir, databaseUrl }. The database is a
 * fresh SQLite file unless `databaseUrl` names another.
 */
export async function startServer(extraArgs = [], { databaseUrl } = {}) {
  const bin = rapportBin;
  const dir = mkdtempSync(path.join(tmpdir(), 'rapport-e2e-'));
  const port = await freePort();
  const database = databaseUrl || `sqlite://${path.join(dir, 'e2e.db')}`;
  const spawnServer = () => spawn(bin, [
    'serve', '--listen', `127.0.0.1:${port}`,
    '--database-url', database,
    '--identity-key-file', path.join(dir, 'identity.key'),
    '--www-dir', process.env.RAPPORT_WWW_DIR || path.join(repoRoot, 'www'),
    '--widget-dir', process.env.RAPPORT_WIDGET_DIR || path.join(repoRoot, 'dist/widget'),
    ...extraArgs,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let child = spawnServer();
  let log = '';
  const collect = (started) => started.stderr.on('data', (chunk) => { log += chunk; });
  collect(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`);
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  return {
    url,
    dir,
    databaseUrl: database,
    log: () => log,
    stop,
    /** Stops the server and starts it again on the same port and database. */
    async restart() {
      await stop();
      child = spawnServer();
      collect(child);
      await waitFor(`${url}/healthz`);
    },
  };
}

/** How many responses the server holds for a survey. */
export async function storedCount(server, survey = 'client-portal') {
  const list = await (await fetch(`${server.url}/api/v1/surveys`)).json();
  return list.find((entry) => entry.id === survey).responses;
}

/** Headless Chromium; Playwright gives each launch a fresh, empty profile. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function screenshot(page, name) {
  const dir = path.join(repoRoot, 'artifacts/screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/** Collects page errors so a test can assert there were none. */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/** The rows of a CSV text, each an array of cells (RFC 4180: a quoted cell may hold commas,
 * doubled quotes and line breaks; lines end with LF or CRLF). */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let idx = 0; idx < text.length; idx++) {
    const character = text[idx];
    if (quoted) {
      if (character === '"' && text[idx + 1] === '"') { cell += '"'; idx++; } else if (character === '"') { quoted = false; } else { cell += character; }
    } else if (character === '"') {
      quoted = true;
    } else if (character === ',') {
      row.push(cell); cell = '';
    } else if (character === '\n' || character === '\r') {
      if (character === '\r' && text[idx + 1] === '\n') idx++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else {
      cell += character;
    }
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}
