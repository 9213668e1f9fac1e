#!/usr/bin/env node
// console.mjs - the customer-service console and the PM page in a real
// headless Chromium (Debian's /usr/bin/chromium driven by playwright-core).
//
//   node console.mjs --base http://127.0.0.1:PORT --cs-token T --pm-token T
//                    --ticket ID --project ID [--out DIR]
//
// Console, laptop viewport (1280x800): /console redirects to the sign-in;
// a wrong token is refused on the page; the cs token signs in (the cookie
// is HttpOnly, SameSite=Strict, invisible to scripts); the worklist shows
// the open ticket and the open staff tasks (one is marked done with a
// note); results filtered by milestone (竣工验收) and by score
// (at most 6); the CSV download of the filtered results; the ticket's
// report and resolve actions; the project's timeline; the reports page
// with its SVG charts; sign-out, after which /console/ is the sign-in again.
//
// PM page, phone viewport (390x844, touch): sign in with the PM token, see
// the project, tap 隐蔽工程(水电)验收, read what will be sent and when in the
// confirmation, tap 确认上报 twice (a double tap), see the answer; sign out.
//
// Every request that is not to 127.0.0.1 is aborted and counted; console
// errors (a CSP violation is one) are collected. Screenshots go to --out
// (default <repo>/build/test-artifacts/console).
//
// Exit 0 with one JSON line on stdout (what was seen); exit 1 with
// "console.mjs: FAIL: <why>" on stderr.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SLOW = Math.max(1, parseInt(process.env.TEST_TIMEOUT_MULTIPLIER || '1', 10) || 1);
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const PHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 ' +
  '(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.44';

class Fail extends Error {}
function check(cond, msg) {
  if (!cond) throw new Fail(msg);
}

function parseArgs(argv) {
  const o = { out: null };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(base|cs-token|pm-token|ticket|project|task|out)$/.exec(argv[i]);
    if (!m || i + 1 >= argv.length) throw new Fail(`bad argument ${JSON.stringify(argv[i])}`);
    o[m[1]] = argv[++i];
  }
  for (const k of ['base', 'cs-token', 'pm-token', 'ticket', 'project', 'task'])
    check(o[k], `--${k} is required`);
  o.out = path.resolve(o.out || path.join(REPO, 'build', 'test-artifacts', 'console'));
  return o;
}

function isLocal(u) {
  try {
    const p = new URL(u);
    if (['data:', 'about:', 'blob:'].includes(p.protocol)) return true;
    return (p.protocol === 'http:' || p.protocol === 'https:') && p.hostname === '127.0.0.1';
  } catch {
    return false;
  }
}

async function newContext(profile, phone, blocked, requests, errors) {
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 15000 * SLOW,
    viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 800 },
    deviceScaleFactor: phone ? 2 : 1, isMobile: phone, hasTouch: phone,
    userAgent: phone ? PHONE_UA : undefined, locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
    acceptDownloads: true, serviceWorkers: 'block',
  });
  ctx.setDefaultTimeout(10000 * SLOW);
  ctx.setDefaultNavigationTimeout(10000 * SLOW);
  await ctx.route('**', (route) => {
    const u = route.request().url();
    if (isLocal(u)) return route.continue();
    blocked.push(u);
    return route.abort('blockedbyclient');
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { ctx, page };
}

// Wait until the app has rendered @view (body[data-view]).
async function view(page, name) {
  await page.waitForSelector(`body[data-view="${name}"]`);
}

async function signIn(page, base, app, token) {
  await page.goto(`${base}/${app}`);
  check(new URL(page.url()).pathname === `/${app}/login`, `/${app} without a session went to ${page.url()}`);
  await page.fill('#token', token);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  check(new URL(page.url()).pathname === `/${app}/`, `after sign-in: ${page.url()}`);
}

async function consoleRun(opt, summary, blocked, errors) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-console-'));
  const requests = [];
  const { ctx, page } = await newContext(profile, false, blocked, requests, errors);
  const shot = (n) => page.screenshot({ path: path.join(opt.out, `console-${n}.png`), fullPage: true });
  const base = opt.base;
  try {
    // ---- sign-in: a wrong token first ------------------------------------
    await page.goto(`${base}/console`);
    check(new URL(page.url()).pathname === '/console/login', `no session: ${page.url()}`);
    await page.fill('#token', 'not-a-token');
    const [bad] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    summary.wrong_token = { status: bad.status(), error: (await page.textContent('#login-error')).trim() };
    await shot('signin-refused');
    await signIn(page, base, 'console', opt['cs-token']);
    const cookies = await ctx.cookies(base);
    const c = cookies.find((x) => x.name === 'hf_session');
    check(c, 'no hf_session cookie after sign-in');
    summary.cookie = { httpOnly: c.httpOnly, sameSite: c.sameSite, path: c.path,
                       visible_to_script: await page.evaluate(() => document.cookie.includes('hf_session')) };

    // ---- worklist ---------------------------------------------------------
    await view(page, 'worklist');
    summary.worklist = {
      tickets: await page.locator('#worklist-tickets tbody tr').evaluateAll((rows) =>
        rows.map((r) => r.querySelector('td a') && r.querySelector('td a').textContent)),
      open: Number(await page.textContent('#n-open')),
    };
    summary.tasks = await page.locator('#worklist-tasks form.task-done').evaluateAll((f) =>
      f.map((x) => x.dataset.task));
    await shot('worklist');
    // A staff task done from the worklist, with its note.
    const taskForm = page.locator(`#worklist-tasks form[data-task="${opt.task}"]`);
    await taskForm.locator('input[name=note]').fill('已电话联系客户，原因已记录。');
    await taskForm.locator('button').click();
    await taskForm.waitFor({ state: 'detached' });
    summary.tasks_after = await page.locator('#worklist-tasks form.task-done').evaluateAll((f) =>
      f.map((x) => x.dataset.task));

    // ---- results, filtered ------------------------------------------------
    await page.click('#nav a[href="#/results"]');
    await view(page, 'results');
    const all = Number(await page.getAttribute('#results', 'data-count'));
    await page.selectOption('select[name=milestone]', 'completion');
    await page.click('#apply');
    await page.waitForFunction(() => location.hash.includes('milestone=completion'));
    await view(page, 'results');
    const col = async (i) => page.locator('#results tbody tr').evaluateAll((rows, k) =>
      rows.map((r) => r.children[k] && r.children[k].textContent), i);
    summary.results = { all, by_milestone: await col(4) };
    await page.selectOption('select[name=milestone]', '');
    await page.selectOption('select[name=score_max]', '6');
    await page.click('#apply');
    await page.waitForFunction(() => location.hash.includes('score_max=6'));
    await view(page, 'results');
    summary.results.score_max_6 = (await col(7)).map(Number);
    summary.results.csv_href = await page.getAttribute('#csv', 'href');
    await shot('results');

    // ---- CSV download of the filtered results ---------------------------
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
    const file = path.join(opt.out, 'results.csv');
    await dl.saveAs(file);
    const buf = fs.readFileSync(file);
    summary.csv = { file, bytes: buf.length, bom: buf.subarray(0, 3).toString('hex'),
                    text: buf.toString('utf8').replace(/^\uFEFF/, '') };

    // ---- ticket: report, then resolve -------------------------------------
    await page.goto(`${base}/console/#/ticket/${opt.ticket}`);
    await view(page, 'ticket');
    summary.ticket = { before: (await page.textContent('#ticket-state')).trim() };
    await shot('ticket');
    await page.fill('#report-text', '已联系工长，明天上午返工收尾并安排保洁。');
    await page.click('#report-submit');
    await page.waitForFunction(() => document.querySelector('#ticket-state')?.textContent === '已报告');
    await page.fill('#resolve-text', '已返工并保洁，客户电话确认满意。');
    await page.click('#resolve-submit');
    await page.waitForFunction(() => document.querySelector('#ticket-state')?.textContent === '已解决');
    summary.ticket.after = (await page.textContent('#ticket-state')).trim();
    summary.ticket.notice = (await page.textContent('#ticket-notice')).trim();
    await shot('ticket-resolved');

    // ---- project timeline ----------------------------------------------------
    await page.goto(`${base}/console/#/project/${encodeURIComponent(opt.project)}`);
    await view(page, 'project');
    summary.timeline = await page.locator('#timeline li').evaluateAll((li) => li.map((x) => x.className));
    await shot('project');

    // ---- reports -------------------------------------------------------------
    await page.click('#nav a[href="#/reports"]');
    await view(page, 'reports');
    summary.charts = await page.locator('section.card svg.chart').count();
    summary.chart_bars = await page.locator('svg.chart rect.bar').count();
    await shot('reports');

    // ---- the worklist on a phone: fits, tables scroll inside their cards -----
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('#nav a[href="#/worklist"]');
    await view(page, 'worklist');
    const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    summary.phone_width = w;
    await shot('phone-worklist');
    await page.setViewportSize({ width: 1280, height: 800 });

    // ---- sign out ------------------------------------------------------------
    await Promise.all([page.waitForNavigation(), page.click('#logout')]);
    summary.after_logout = new URL(page.url()).pathname;
    await page.goto(`${base}/console/`);
    summary.after_logout_reopen = new URL(page.url()).pathname;
    summary.console_requests = requests;
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function pmRun(opt, summary, blocked, errors) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-pm-'));
  const requests = [];
  const { ctx, page } = await newContext(profile, true, blocked, requests, errors);
  const shot = (n) => page.screenshot({ path: path.join(opt.out, `pm-${n}.png`), fullPage: true });
  try {
    await signIn(page, opt.base, 'pm', opt['pm-token']);
    await page.waitForSelector('body[data-ready="1"]');
    const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    check(widths[0] <= widths[1], `PM page is ${widths[0]} px wide on a ${widths[1]} px phone`);
    summary.pm = { projects: await page.locator('section.project').evaluateAll((s) => s.map((x) => x.dataset.project)) };
    await shot('projects');
    const proj = page.locator(`section.project[data-project="${opt.project}"]`);
    const btn = proj.locator('button[data-milestone="hidden_works_acceptance"]');
    const box = await btn.boundingBox();
    check(box && box.height >= 44, `milestone button too small to tap: ${JSON.stringify(box)}`);
    await btn.tap();
    await page.waitForSelector('#plan li');
    summary.pm.plan = await page.locator('#plan li').allTextContents();
    await shot('confirm');
    // A double tap on the confirmation: one trigger.
    await page.locator('#confirm').dblclick();
    await page.waitForSelector('#done');
    summary.pm.done = (await page.textContent('#done')).trim();
    summary.pm.sent = await page.locator('#plan li').allTextContents();
    await shot('done');
    summary.pm.trigger_posts = requests.filter((r) => r.startsWith('POST ') && r.endsWith('/triggers')).length;
    await page.tap('#cancel');
    await page.waitForSelector('body[data-ready="1"]');
    summary.pm.done_badge = await proj.locator('button[data-milestone="hidden_works_acceptance"] .done').count();
    await Promise.all([page.waitForNavigation(), page.tap('#logout')]);
    summary.pm.after_logout = new URL(page.url()).pathname;
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  check(fs.existsSync(CHROMIUM), `${CHROMIUM} not found (Debian package chromium)`);
  fs.mkdirSync(opt.out, { recursive: true });
  const summary = { ok: false, out: opt.out };
  const blocked = [];
  const errors = [];
  await consoleRun(opt, summary, blocked, errors);
  await pmRun(opt, summary, blocked, errors);
  summary.external_requests = blocked;
  summary.console_errors = errors;
  summary.screenshots = fs.readdirSync(opt.out).filter((f) => f.endsWith('.png')).sort();
  summary.ok = true;
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((e) => {
  process.stderr.write(`console.mjs: FAIL: ${e instanceof Fail ? e.message : e.stack || e}\n`);
  process.exit(1);
});
