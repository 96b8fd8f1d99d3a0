// What the e2e scripts share: Chromium through playwright-core (Debian's
// /usr/bin/chromium, headless), signing in, and in-page instruments that time
// what the user sees (performance.now() in the page, a MutationObserver on the
// status badge and the contact list).

import fs from 'node:fs';
import path from 'node:path';
import {chromium} from 'playwright-core';

export const CHROMIUM = process.env.CALLREC_CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start.
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
  });
}

// Runs in every page before its own scripts: records clicks on buttons and every
// change of the status badge and of the contact list, with performance.now().
function instruments() {
  const log = {clicks: [], badges: [], lists: [], errors: []};
  window.__e2e = log;
  let lastBadge = null;
  let lastList = null;
  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('button');
    if (!button) return;
    log.clicks.push({
      t: performance.now(),
      now: Date.now(),
      op: button.dataset.op || button.dataset.action || button.textContent.trim()
    });
  }, true);
  const observe = () => {
    const badge = document.getElementById('status-badge');
    if (badge) {
      const state = badge.hidden ? '' : badge.dataset.state || '';
      if (state !== lastBadge) {
        lastBadge = state;
        log.badges.push({t: performance.now(), now: Date.now(), state, text: badge.textContent});
      }
    }
    const list = document.getElementById('contact-list');
    if (list) {
      const items =
          [...list.querySelectorAll('li')]
              .map((li) => `${li.dataset.contact}=${li.querySelector('.status').textContent}`)
              .join(',');
      if (items !== lastList) {
        lastList = items;
        log.lists.push(
            {t: performance.now(), now: Date.now(), items: items ? items.split(',') : []});
      }
    }
  };
  new MutationObserver(observe).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    characterData: true,
  });
  window.addEventListener('error', (event) => log.errors.push(String(event.message)));
  window.addEventListener('unhandledrejection', (event) => log.errors.push(String(event.reason)));
}

export async function newPage(browser, name, artifacts, contextOptions = {}) {
  const context = await browser.newContext(
      {viewport: {width: 1360, height: 880}, acceptDownloads: true, ...contextOptions});
  const page = await context.newPage();
  await page.addInitScript(instruments);
  page.consoleLines = [];
  page.on('console', (m) => page.consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => page.consoleLines.push(`pageerror: ${e.message}`));
  page.shots = [];
  page.shoot = async (label, options = {}) => {
    const file = path.join(
        artifacts, `${name}-${String(page.shots.length + 1).padStart(2, '0')}-${label}.png`);
    await page.screenshot({path: file, animations: 'disabled', ...options});
    page.shots.push(file);
    return file;
  };
  return page;
}

export async function signIn(page, url, agentId, token) {
  await page.goto(url);
  await page.fill('#sign-in input[name=agent]', agentId);
  await page.fill('#sign-in input[name=token]', token);
  await page.click('#sign-in button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
  await page.waitForSelector('#live[data-status=live]');
}

export function log(page) { return page.evaluate(() => window.__e2e); }

// The first badge change to `state` at or after page time `after` (ms).
export async function badgeAfter(page, state, after, timeout = 5000) {
  await page.waitForFunction(
      ([s, a]) => window.__e2e.badges.some((b) => b.state === s && b.t >= a), [state, after],
      {timeout, polling: 'raf'});
  const {badges} = await log(page);
  return badges.find((b) => b.state === state && b.t >= after);
}

export async function pageNow(page) { return page.evaluate(() => performance.now()); }

export function mkdirs(dir) { fs.mkdirSync(dir, {recursive: true}); }

export function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

// JSON lines on stdout: what the Python side reads.
export function emit(object) { process.stdout.write(`${JSON.stringify(object)}\n`); }

export async function api(base, token, method, route, body) {
  const response = await fetch(base + route, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : {'Content-Type': 'application/json'})
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return {status: response.status, json, text};
}
