#!/usr/bin/env node
// survey.mjs - answer huifang's survey page in a real headless Chromium.
//
// Debian's /usr/bin/chromium driven by playwright-core (no downloaded
// browser), at a phone viewport with a WeChat user agent and JavaScript
// DISABLED: the page must work as plain HTML. Every request that is not to
// 127.0.0.1 is aborted and counted; the page must make none.
//
//   node survey.mjs --url http://127.0.0.1:PORT/s/TOKEN
//                   [--tampered http://127.0.0.1:PORT/s/BADTOKEN]
//                   [--company 安居装饰] [--score 4] [--comment TEXT]
//                   [--out DIR]   (screenshots; default <repo>/build/artifacts)
//
// Steps: open the link, check the company name, the questions and the touch
// targets, screenshot (survey-before.png); tap the score, answer every
// yes/no ("是") and choice question (the first option), type the comment,
// tap 提交, wait for the answer page, check the thank-you notice and that
// the answers are shown back, screenshot (survey-after.png); with
// --tampered, open that link and check the friendly page
// (survey-invalid.png).
//
// Exit 0 with one JSON line on stdout summarising what was done; exit 1 with
// "survey.mjs: FAIL: <why>" on stderr on any failure.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SLOW = Math.max(1, parseInt(process.env.TEST_TIMEOUT_MULTIPLIER || '1', 10) || 1);
const WECHAT_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 ' +
  '(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.44';
// How Chromium must start on these machines (.library machines/c.md): no
// sandbox as root, no GPU, and none of its own background connections.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const MIN_TOUCH_PX = 44; // Apple HIG / WeChat guidance for a tap target
// A CJK font must draw the Chinese text; otherwise it is tofu boxes.
const CJK_FONT = /WenQuanYi|CJK|Source Han|Droid Sans Fallback|PingFang|YaHei|Hiragino|Noto Sans SC|Hei|Song|Ming|Kai/i;

class Fail extends Error {}
function check(cond, msg) {
  if (!cond) throw new Fail(msg);
}

function parseArgs(argv) {
  const o = { company: null, score: '4', comment: '工长很负责，水电做得很规范。', out: null,
              url: null, tampered: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const m = /^--(url|tampered|company|score|comment|out)$/.exec(k);
    if (!m || i + 1 >= argv.length) throw new Fail(`bad argument ${JSON.stringify(k)} (see the head of survey.mjs)`);
    o[m[1]] = argv[++i];
  }
  if (!o.url) throw new Fail('--url is required');
  o.out = path.resolve(o.out || path.join(REPO, 'build', 'artifacts'));
  return o;
}

function isLocal(u) {
  try {
    const p = new URL(u);
    if (p.protocol === 'data:' || p.protocol === 'about:') return true;
    return (p.protocol === 'http:' || p.protocol === 'https:') && p.hostname === '127.0.0.1';
  } catch {
    return false;
  }
}

// Every tap target of the page's form: the radio boxes and the submit button.
async function touchTargets(page) {
  const boxes = await page.locator('label.opt > span, button.submit').all();
  const small = [];
  let minW = Infinity, minH = Infinity;
  for (const b of boxes) {
    const r = await b.boundingBox();
    check(r, 'a tap target has no box (hidden?)');
    minW = Math.min(minW, r.width);
    minH = Math.min(minH, r.height);
    if (r.width < MIN_TOUCH_PX || r.height < MIN_TOUCH_PX)
      small.push(`${(await b.textContent()).trim()} ${r.width.toFixed(0)}x${r.height.toFixed(0)}`);
  }
  check(small.length === 0, `tap targets smaller than ${MIN_TOUCH_PX} px: ${small.join(', ')}`);
  return { count: boxes.length, min_w: Math.round(minW), min_h: Math.round(minH) };
}

// The fonts Chromium really used for the text of @selector (CDP).
async function fontsOf(cdp, page, selector) {
  const { root } = await cdp.send('DOM.getDocument', { depth: 0 });
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
  check(nodeId, `no ${selector} on the page`);
  const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
  return fonts.map((f) => f.familyName);
}

async function pageLooksRight(page, cdp, what) {
  // Fits the phone: nothing wider than the viewport.
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  check(widths[0] <= widths[1], `${what}: page is ${widths[0]} px wide on a ${widths[1]} px phone (sideways scrolling)`);
  // The stylesheet applied (CSP hash right): the header is the brand colour.
  const bg = await page.locator('header.top').evaluate((e) => getComputedStyle(e).backgroundColor);
  check(bg === 'rgb(27, 79, 126)', `${what}: stylesheet not applied (header background ${bg})`);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const fonts = await fontsOf(cdp, page, 'h1');
  check(fonts.some((f) => CJK_FONT.test(f)),
        `${what}: the Chinese title is drawn with ${JSON.stringify(fonts)}, no CJK font (install fonts-wqy-microhei)`);
  return fonts;
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  check(fs.existsSync(CHROMIUM), `${CHROMIUM} not found (Debian package chromium)`);
  fs.mkdirSync(opt.out, { recursive: true });
  const shots = {
    before: path.join(opt.out, 'survey-before.png'),
    after: path.join(opt.out, 'survey-after.png'),
    invalid: path.join(opt.out, 'survey-invalid.png'),
  };
  for (const f of Object.values(shots)) fs.rmSync(f, { force: true });

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-chromium-'));
  const summary = { ok: false, chromium: null, url: opt.url, viewport: '390x844@2', javascript: false };
  const blocked = [];
  const requests = [];
  const consoleErrors = [];
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 15000 * SLOW,
      viewport: { width: 390, height: 844 },
      screen: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      userAgent: WECHAT_UA,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      javaScriptEnabled: false,
      serviceWorkers: 'block',
    });
    summary.chromium = context.browser()?.version() ?? null;
    context.setDefaultTimeout(10000 * SLOW);
    context.setDefaultNavigationTimeout(10000 * SLOW);
    await context.route('**', (route) => {
      const u = route.request().url();
      if (isLocal(u)) return route.continue();
      blocked.push(u);
      return route.abort('blockedbyclient');
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      // The tampered link's own 404 is expected; anything else is not.
      if (opt.tampered && m.location().url === opt.tampered && /status of 404/.test(m.text())) return;
      consoleErrors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    const cdp = await context.newCDPSession(page);

    // ---- open the link -------------------------------------------------
    let resp = await page.goto(opt.url, { waitUntil: 'load' });
    check(resp, 'no response for the survey link');
    check(resp.status() === 200, `GET survey link: HTTP ${resp.status()}`);
    check(/^text\/html/.test(resp.headers()['content-type'] || ''), 'survey page is not text/html');
    const brand = (await page.locator('header .brand').textContent())?.trim();
    if (opt.company) check(brand === opt.company, `company name: ${JSON.stringify(brand)}, want ${JSON.stringify(opt.company)}`);
    check(await page.locator('header .brand').isVisible(), 'company name not visible');
    summary.company = brand;
    summary.title = (await page.locator('main h1').first().textContent())?.trim();
    const legends = page.locator('fieldset.q > legend');
    const nq = await legends.count();
    check(nq > 0, 'no questions on the page');
    summary.questions = [];
    for (let i = 0; i < nq; i++) {
      const l = legends.nth(i);
      check(await l.isVisible(), `question ${i + 1} not visible`);
      // "1.请为本次装修整体打分（1-10分）*" -> the text only
      const t = await l.evaluate((e) => {
        const c = e.cloneNode(true);
        c.querySelectorAll('.qn,.req,.opt-l').forEach((x) => x.remove());
        return c.textContent.trim();
      });
      summary.questions.push(t);
    }
    check(await page.locator('fieldset.q.main').count() === 1, 'no main (score) question');
    summary.fonts = await pageLooksRight(page, cdp, 'survey page');
    summary.touch_targets = await touchTargets(page);
    await page.screenshot({ path: shots.before, fullPage: true });

    // ---- answer ---------------------------------------------------------
    const answered = {};
    const main = page.locator('fieldset.q.main');
    const scoreBox = main.locator('label.opt', { hasText: new RegExp(`^${opt.score}$`) });
    check(await scoreBox.count() === 1, `no score box "${opt.score}"`);
    await scoreBox.tap();
    check(await scoreBox.locator('input').isChecked(), `score ${opt.score} not checked after the tap`);
    answered[await main.locator('input').first().getAttribute('name')] = opt.score;

    const yesno = await page.locator('fieldset.q:has(.opts.yn)').all();
    for (const q of yesno) {
      const box = q.locator('label.opt', { hasText: '是' });
      await box.tap();
      check(await box.locator('input').isChecked(), '"是" not checked after the tap');
      answered[await box.locator('input').getAttribute('name')] = 'yes';
    }
    const choices = await page.locator('fieldset.q:has(.opts.list)').all();
    for (const q of choices) {
      const box = q.locator('label.opt').first();
      await box.tap();
      check(await box.locator('input').isChecked(), 'choice not checked after the tap');
      answered[await box.locator('input').getAttribute('name')] = await box.locator('input').getAttribute('value');
    }
    const texts = await page.locator('fieldset.q textarea').all();
    check(texts.length > 0, 'no text question');
    await texts[0].tap();
    await texts[0].fill(opt.comment);
    check(await texts[0].inputValue() === opt.comment, 'the comment did not go into the text box');
    answered[await texts[0].getAttribute('name')] = opt.comment;
    summary.answered = answered;

    const submit = page.getByRole('button', { name: '提交' });
    check(await submit.isVisible(), '提交 button not visible');
    const [nav] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      submit.tap(),
    ]);
    resp = nav;
    check(resp && resp.request().method() === 'POST', 'submitting did not POST the form');
    check(resp.status() === 200, `POST survey: HTTP ${resp.status()}: ${(await page.locator('.notice').allTextContents()).join(' ')}`);

    // ---- the thank-you page ---------------------------------------------
    const notice = page.locator('.notice.ok');
    check(await notice.isVisible(), `no thank-you notice (page says: ${(await page.locator('.notice').allTextContents()).join(' ') || 'nothing'})`);
    summary.notice = (await notice.textContent()).trim();
    check(/谢谢/.test(summary.notice) && /已保存/.test(summary.notice), `thank-you notice reads ${JSON.stringify(summary.notice)}`);
    check(await page.locator('.card.prev').isVisible(), 'answers are not shown back for amending');
    const mainAfter = page.locator('fieldset.q.main label.opt', { hasText: new RegExp(`^${opt.score}$`) });
    check(await mainAfter.locator('input').isChecked(), `score ${opt.score} not shown back as chosen`);
    check(await page.locator('fieldset.q textarea').first().inputValue() === opt.comment, 'comment not shown back');
    await pageLooksRight(page, cdp, 'answered page');
    await page.screenshot({ path: shots.after, fullPage: true });

    // ---- a tampered link --------------------------------------------------
    if (opt.tampered) {
      resp = await page.goto(opt.tampered, { waitUntil: 'load' });
      check(resp && resp.status() === 404, `tampered link: HTTP ${resp && resp.status()}, want 404`);
      const h1 = (await page.locator('.msg h1').textContent())?.trim();
      check(h1 === '链接无法打开', `tampered link page title ${JSON.stringify(h1)}`);
      check(await page.locator('.msg h1').isVisible(), 'tampered link: message not visible');
      const call = page.locator('a.call');
      check(await call.isVisible(), 'tampered link: no call-us button');
      const callBox = await call.boundingBox();
      check(callBox.height >= MIN_TOUCH_PX, `call button only ${callBox.height} px high`);
      const body = await page.locator('body').innerText();
      check(!/<|Traceback|error|null|undefined/i.test(body), `tampered link page shows ${JSON.stringify(body.slice(0, 200))}`);
      check(!body.includes(summary.title) && !body.includes(opt.comment), 'tampered link page shows survey data');
      if (opt.company) check(body.includes(opt.company), 'tampered link page lacks the company name');
      await pageLooksRight(page, cdp, 'tampered link page');
      await page.screenshot({ path: shots.invalid, fullPage: true });
      summary.tampered = { status: 404, title: h1, call: (await call.textContent()).trim() };
    }

    check(blocked.length === 0, `the page asked for outside resources: ${blocked.join(', ')}`);
    check(consoleErrors.length === 0, `console errors: ${consoleErrors.join(' | ')}`);
    summary.requests = requests;
    summary.external_requests = blocked.length;
    summary.screenshots = Object.fromEntries(Object.entries(shots).filter(([, f]) => fs.existsSync(f)));
    summary.ms = Date.now() - t0;
    summary.ok = true;
    return summary;
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().then(
  (summary) => {
    process.stdout.write(JSON.stringify(summary) + '\n');
    process.exit(0);
  },
  (e) => {
    const why = e instanceof Fail ? e.message : (e && e.stack) || String(e);
    process.stderr.write(`survey.mjs: FAIL: ${why}\n`);
    process.exit(1);
  },
);
