// Issue 20's views end to end, in headless Chromium against the real server
// (run by tests/interop/test_workspace_pages.py, which creates the contacts,
// sends the call's RTP and checks what this script measured):
//   - the admin token signed in with an agent id says so;
//   - alice's card: call and recorded clocks, Alt+P pauses, "Paused for"
//     counts up, the --max-pause countdown then "overdue", Alt+P resumes;
//   - visible focus on every control reached with Tab (three pages);
//   - the supervisor (sue) sees both agents' calls, counts, and highlights;
//   - the recordings page: playable at once, the waveform's shaded pause
//     measured on the canvas's pixels, seeking from a pause row and a mark.
// Config ($CALLREC_E2E): {url, adminToken, alice, bob, sue: {id, token},
// contacts: {alice, bobPaused, bobNever}, maxPause, artifacts, timezone}.
// Output: {"event":"ready"} once alice's page shows her contact, then
// {"event":"done", ...} (or {"event":"error"}).

import {api, badgeAfter, emit, launch, log, mkdirs, newPage, pageNow, signIn, sleep} from './browser.mjs';
import {focusWalk, waveformCheck} from './views-checks.mjs';

const config = JSON.parse(process.env.CALLREC_E2E || process.argv[2] || '{}');
const base = config.url.replace(/\/$/, '');
const ids = config.contacts;
mkdirs(config.artifacts);
const result = {
  event: 'done',
  screenshots: []
};
const pages = [];
let browser;

async function main() {
  browser = await launch();
  const options = {timezoneId: config.timezone};
  const admin = await newPage(browser, 'views-admin', config.artifacts, options);
  const alice = await newPage(browser, 'views-alice', config.artifacts, options);
  const sue = await newPage(browser, 'views-sue', config.artifacts, options);
  pages.push(admin, alice, sue);
  result.admin = await adminSignIn(admin);

  await signIn(alice, `${base}/`, config.alice.id, config.alice.token);
  await alice.waitForFunction(
      (cid) => document.getElementById('contact-heading').textContent === cid &&
          document.getElementById('status-badge').dataset.state === 'NOT_STARTED',
      ids.alice, {timeout: 15000});
  result.shortcutHint = await alice.textContent('[data-testid=shortcut-hint]');
  result.pauseShortcut = await alice.getAttribute('[data-op=PAUSE]', 'aria-keyshortcuts');
  emit({event: 'ready'});
  result.card = await cardCheck(alice);
  result.focus = {workspace: await focusWalk(alice, 45)};

  await signIn(sue, `${base}/supervisor.html`, config.sue.id, config.sue.token);
  result.supervisor = await supervisorCheck(sue);
  result.focus.supervisor = await focusWalk(sue, 12);

  // Alt+P again: resumed; then Stop, and the call ends.
  const before = await pageNow(alice);
  await alice.keyboard.press('Alt+KeyP');
  result.card.resumeBadge = (await badgeAfter(alice, 'RECORDING', before)).state;
  await sleep(600);
  result.card.afterResume = await clocks(alice);
  await alice.click('[data-op=STOP]');
  await badgeAfter(alice, 'STOPPED', before);
  await api(
      base, config.adminToken, 'POST', `/v1/contacts/${encodeURIComponent(ids.alice)}/end`, {});
  result.recording = await recordingCheck(alice);
  result.focus.recordings = await focusWalk(alice, 40);
  for (const page of pages) result.screenshots.push(...page.shots);
  result.errors = Object.fromEntries(await Promise.all(
      pages.map(async (p, i) => [['admin', 'alice', 'sue'][i], (await log(p)).errors])));
}

// The admin token with an agent id typed beside it: signed in as the admin,
// and told so plainly.
async function adminSignIn(page) {
  await page.goto(`${base}/`);
  await page.fill('#sign-in input[name=agent]', config.alice.id);
  await page.fill('#sign-in input[name=token]', config.adminToken);
  await page.click('#sign-in button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
  await page.waitForSelector('.flash[data-tone=info]');
  const out = {
    who: await page.textContent('[data-testid=who]'),
    flash: (await page.textContent('.flash[data-tone=info]')).replace(/\s+/g, ' ').trim(),
    supervisorLink: await page.isVisible('#nav-supervisor'),
  };
  await page.shoot('admin-signed-in');
  await sleep(5600);  // a sticky message: still there after the others went
  out.stillShown = await page.isVisible('.flash[data-tone=info]');
  return out;
}

async function clocks(page) {
  return page.evaluate(
      () => ({
        t: performance.now(),
        call: document.getElementById('call-elapsed').textContent,
        recorded: document.getElementById('recorded').textContent,
        pausedShown: !document.getElementById('paused-for-box').hidden,
        pausedFor:
            document.getElementById('paused-for-box').textContent.replace(/\s+/g, ' ').trim(),
        maxPause: document.getElementById('max-pause').hidden ?
            null :
            document.getElementById('max-pause').textContent,
        tone: document.getElementById('max-pause').dataset.tone || '',
        badge: document.getElementById('status-badge').dataset.state,
      }));
}

async function cardCheck(page) {
  const out = {};
  const t0 = await pageNow(page);
  await page.click('[data-op=START]');
  await badgeAfter(page, 'RECORDING', t0);
  await sleep(1300);
  out.recording = await clocks(page);
  // Alt+P with the focus on no control in particular: paused.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  const before = await pageNow(page);
  await page.keyboard.press('Alt+KeyP');
  const badge = await badgeAfter(page, 'PAUSED', before);
  out.pauseLatencyMs = badge.t - before;
  out.samples = [];
  for (let i = 0; i < 14; i++) {  // 3.5 s: past --max-pause (2 s)
    out.samples.push(await clocks(page));
    if (i === 6) await page.shoot('paused-countdown');
    await sleep(250);
  }
  await page.waitForSelector('#timeline li[data-operation=PAUSE_OVERDUE]', {timeout: 3000});
  out.timelineOverdue = (await page.textContent('#timeline li[data-operation=PAUSE_OVERDUE]'))
                            .replace(/\s+/g, ' ')
                            .trim();
  out.timelineTime = await page.textContent('#timeline li time');
  out.attributes = (await page.textContent('#contact-attributes')).replace(/\s+/g, ' ');
  await page.shoot('pause-overdue');
  return out;
}

async function supervisorCheck(page) {
  await page.waitForFunction(
      (n) => document.querySelectorAll('#live-rows tr').length >= n &&
          document.querySelector('#counts [data-count=LIVE] .n').textContent !== '—',
      3, {timeout: 10000});
  await page.waitForFunction(
      () => document.querySelectorAll('#live-rows tr.overdue').length >= 2, null, {timeout: 10000});
  const read = () =>
      page.evaluate(() => ({
                      rows: [...document.querySelectorAll('#live-rows tr')].map(
                          (tr) => ({
                            contact: tr.dataset.contact,
                            agent: tr.dataset.agent,
                            flags: tr.dataset.flags ? tr.dataset.flags.split(',') : [],
                            state: tr.querySelector('[data-state]').dataset.state,
                            inState: tr.querySelector('[data-cell=in-state]').textContent,
                            pause: tr.querySelector('[data-cell=pause]').textContent,
                          })),
                      counts: Object.fromEntries([...document.querySelectorAll('#counts li')].map(
                          (li) => [li.dataset.count, li.querySelector('.n').textContent])),
                      policy: document.getElementById('policy').textContent,
                    }));
  const first = await read();
  await page.shoot('supervisor');
  // Live: a change made elsewhere shows without a reload.
  const sent = Date.now();
  await api(
      base, config.bob.token, 'POST',
      `/v1/contacts/${encodeURIComponent(ids.bobPaused)}/guide/actions`,
      {Result: 'ActionSelected', ViewResultData: {actionName: 'Resume recording'}});
  await page.waitForFunction(
      (cid) => document.querySelector(`#live-rows tr[data-contact="${cid}"] [data-state]`)
                   .dataset.state === 'RECORDING',
      ids.bobPaused, {timeout: 5000});
  const shownMs = Date.now() - sent;
  await sleep(1100);
  return {first, afterResume: await read(), shownMs};
}

async function recordingCheck(page) {
  const id = ids.alice;
  const deadline = Date.now() + 20000;
  let meta = null;
  while (Date.now() < deadline && !meta) {
    const reply =
        await api(base, config.alice.token, 'GET', `/v1/recordings/${encodeURIComponent(id)}`);
    if (reply.status === 200 && reply.json && reply.json.Complete)
      meta = reply.json;
    else
      await sleep(100);
  }
  if (!meta) throw new Error(`recording of ${id} never complete`);
  await page.goto(`${base}/recordings.html`);
  await page.waitForSelector(`#recording-rows tr[data-contact="${id}"]`);
  const out = {meta};
  out.playButtons = await page.$$eval(
      'button', (bs) => bs.filter((b) => /^\s*play\s*$/i.test(b.textContent)).length);
  out.startedCell = await page.$eval(
      `#recording-rows tr[data-contact="${id}"]`, (row) => row.cells[3].textContent.trim());
  out.dateFilter = await page.evaluate(() => {
    const input = document.querySelector('#filters [name=date]');
    return {
      type: input.type,
      placeholder: input.placeholder,
      label: input.closest('label').textContent.replace(/\s+/g, ' ').trim()
    };
  });
  await page.click(`#recording-rows tr[data-contact="${id}"] td button`);
  // Selected: playable at once, with the player's own control only.
  await page.waitForFunction(() => {
    const a = document.getElementById('player');
    return a.src.startsWith('blob:') && a.readyState >= 1 && a.duration > 0;
  }, null, {timeout: 10000});
  out.readyWithoutPlay = true;
  out.wave = await waveformCheck(page);
  // Seeking: from the pause's row, then from the RESUME mark.
  await page.click('#pause-rows tr td');
  await page.waitForFunction(() => !document.getElementById('player').seeking);
  out.seekRow =
      await page.evaluate(() => ({
                            currentTime: document.getElementById('player').currentTime,
                            playhead: Number(document.querySelector('.playhead').dataset.time),
                          }));
  await page.click('.wave-mark[data-operation=RESUME]', {force: true});
  await page.waitForFunction(() => !document.getElementById('player').seeking);
  out.seekMark = await page.evaluate(
      () => ({
        currentTime: document.getElementById('player').currentTime,
        offset: Number(document.querySelector('.wave-mark[data-operation=RESUME]').dataset.offset),
      }));
  await page.evaluate(() => document.getElementById('player').play());
  await sleep(700);
  out.playing = await page.evaluate(() => {
    const a = document.getElementById('player');
    const head = document.querySelector('.playhead');
    const box = head.parentElement.getBoundingClientRect();
    return {
      currentTime: a.currentTime,
      paused: a.paused,
      playheadShare: (head.getBoundingClientRect().left + 1 - box.left) / box.width,
      duration: a.duration
    };
  });
  await page.evaluate(() => document.getElementById('player').pause());
  await page.evaluate(() => document.getElementById('detail').scrollIntoView());
  await page.evaluate(() => window.scrollBy(0, -70));  // below the top bar
  await page.shoot('recording-waveform');
  // The earlier call, paused under skip: its pause is a cut.
  await page.click(`#recording-rows tr[data-contact="${ids.cut}"] td button`);
  await page.waitForFunction(
      (cid) => document.getElementById('detail').dataset.contact === cid &&
          document.getElementById('waveform').dataset.ready === 'true',
      ids.cut, {timeout: 10000});
  out.cut = await waveformCheck(page);
  return out;
}

try {
  await main();
  emit(result);
  await browser.close();
  process.exit(0);
} catch (error) {
  const failure = {event: 'error', message: String(error && error.stack || error), partial: result};
  for (const page of pages) {
    try {
      await page.shoot('failure');
      failure.console = (failure.console || []).concat(page.consoleLines.slice(-20));
    } catch {
      // the page is gone
    }
  }
  emit(failure);
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
