#!/usr/bin/env node
// screenshots.mjs - the README's pictures of the console and the PM page,
// taken from a running `make run` demo (its demo data and demo tokens):
//
//   make run &            # (PORT=8080 by default)
//   node tests/browser/screenshots.mjs [--base http://127.0.0.1:8080] [--out docs]
//
// Writes console.png (the results page at a laptop size) and pm.png (the PM's
// confirmation of a milestone at a phone size; nothing is triggered).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) =>
  (i % 2 ? a : a.concat([[v.replace(/^--/, ''), all[i + 1]]])), []));
const base = args.base || 'http://127.0.0.1:8080';
const out = path.resolve(args.out || path.join(REPO, 'docs'));
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
              '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function browse(phone, fn) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-shots-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS,
    viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 760 },
    deviceScaleFactor: phone ? 2 : 1, isMobile: phone, hasTouch: phone, locale: 'zh-CN',
  });
  try {
    await fn(ctx.pages()[0] ?? (await ctx.newPage()));
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function signIn(page, app, token) {
  await page.goto(`${base}/${app}/login`);
  await page.fill('#token', token);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

fs.mkdirSync(out, { recursive: true });
await browse(false, async (page) => {
  await signIn(page, 'console', 'demo-cs-token-change-me-too');
  await page.waitForSelector('body[data-view="worklist"]');
  await page.click('#nav a[href="#/results"]');
  await page.waitForSelector('body[data-view="results"]');
  await page.screenshot({ path: path.join(out, 'console.png') });
});
await browse(true, async (page) => {
  await signIn(page, 'pm', 'demo-pm-token-change-me');
  await page.waitForSelector('body[data-ready="1"]');
  await page.locator('button[data-milestone="hidden_works_acceptance"]').first().tap();
  await page.waitForSelector('#plan li');
  await page.screenshot({ path: path.join(out, 'pm.png') });
});
console.log(`wrote ${path.join(out, 'console.png')} and ${path.join(out, 'pm.png')}`);
