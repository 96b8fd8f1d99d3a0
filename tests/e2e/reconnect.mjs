// The server goes away mid-call and comes back (issue 20): while it is away
// the page shows no state it cannot vouch for (every badge and the guide card
// say STATUS UNKNOWN, reconnecting; the controls warn that an action may not
// take effect; a Pause tried then fails and changes nothing shown); once back,
// the page reconnects by itself and shows each contact's real state only after
// it has read it again from the server, then follows changes pushed as before.
//
// Config: JSON in $CALLREC_E2E: {url, adminToken, alice: {id, token},
//   contactId (recording when the server goes), otherId (not started), artifacts}
// Output: {"event":"ready"} with the contact recording (the caller then stops
// the server), {"event":"down", ...} once the page has been checked without a
// server (the caller then starts it again on the same port and data dir),
// then {"event":"done", ...} or {"event":"error", ...}.

import {api, badgeAfter, emit, launch, log, mkdirs, newPage, pageNow, signIn} from './browser.mjs';

const config = JSON.parse(process.env.CALLREC_E2E || process.argv[2] || '{}');
const base = config.url.replace(/\/$/, '');
const id = config.contactId;
const other = config.otherId;
mkdirs(config.artifacts);

// Everything the page shows of a state, at once.
function shown(page) {
  return page.evaluate(() => {
    const badge = document.getElementById('status-badge');
    const warning = document.getElementById('controls-warning');
    const guide = document.querySelector('[data-testid=guide]');
    return {
      badge: {
        state: badge.dataset.state,
        text: badge.textContent,
        tone: badge.className,
        detail: document.getElementById('status-text').textContent,
      },
      list: [...document.querySelectorAll('#contact-list li')].map((li) => ({
                                                                 contact: li.dataset.contact,
                                                                 text: li.querySelector('.status').textContent,
                                                                 tone: li.querySelector('.status').className,
                                                                 meta: li.querySelector('.meta').textContent,
                                                               })),
      guideUnknown: guide.querySelector('[data-testid=guide-unknown]')?.textContent || null,
      guideText: guide.textContent.replace(/\s+/g, ' ').trim(),
      warning: warning.hidden ? null : warning.textContent,
      buttons: [...document.querySelectorAll('[data-op]')].map((b) => ({
                                                                 op: b.dataset.op,
                                                                 disabled: b.disabled,
                                                                 title: b.title,
                                                               })),
      live: document.getElementById('live').dataset.status,
    };
  });
}

const browser = await launch();
try {
  const out = {event: 'done'};
  const page = await newPage(browser, 'reconnect', config.artifacts);
  await signIn(
      page, `${base}/#contact=${encodeURIComponent(id)}`, config.alice.id, config.alice.token);
  await page.waitForSelector('#status-badge[data-state=NOT_STARTED]');
  await page.waitForSelector(`#contact-list li[data-contact="${other}"]`);
  // Mid-call: the agent starts the recording.
  await page.waitForSelector('[data-op=START]:not([disabled])');
  const before = await pageNow(page);
  await page.click('[data-op=START]');
  await badgeAfter(page, 'RECORDING', before);
  await page.waitForSelector('[data-op=PAUSE]:not([disabled])');
  out.before = await shown(page);
  const badgesBefore = (await log(page)).badges.length;
  await page.evaluate(() => {
    window.__live = [];
    window.__liveAt = [];
    const node = document.getElementById('live');
    new MutationObserver(() => {
      window.__live.push(node.dataset.status);
      window.__liveAt.push({status: node.dataset.status, t: performance.now()});
    }).observe(node, {attributes: true, attributeFilter: ['data-status']});
    // When the guide card says STATUS UNKNOWN and when it stops saying so.
    window.__guide = [];
    const guide = document.querySelector('[data-testid=guide]');
    let last = null;
    new MutationObserver(() => {
      const unknown = Boolean(guide.querySelector('[data-testid=guide-unknown]'));
      if (unknown !== last) window.__guide.push({unknown, t: performance.now()});
      last = unknown;
    }).observe(guide, {subtree: true, childList: true});
  });
  emit({event: 'ready'});

  // The server is stopped: the page notices, and claims no state.
  await page.waitForFunction(() => window.__live.some((s) => s !== 'live'), null, {timeout: 30000});
  const goneAt = Date.now();
  await page.waitForSelector('#status-badge[data-state=UNKNOWN]', {timeout: 5000});
  await page.waitForSelector('[data-testid=guide-unknown]', {timeout: 5000});
  out.noticedMs = Date.now() - goneAt;
  out.down = await shown(page);
  // The agent presses Pause anyway: it fails, and nothing pretends otherwise.
  await page.click('[data-op=PAUSE]');
  await page.waitForSelector('.flash', {timeout: 10000});
  out.pauseFlash = (await page.textContent('.flash')).replace(/\s+/g, ' ').trim();
  out.afterPause = await shown(page);
  await page.shoot('server-down');

  const downAt = await pageNow(page);
  emit({...out, event: 'down'});

  await page.waitForFunction(
      () => window.__live.length && window.__live.at(-1) === 'live', null, {timeout: 30000});
  const reconnected = await pageNow(page);
  // The restart ended the call that was recording (its media is gone): the page
  // shows that, not the RECORDING it saw before the server went.
  const real = await badgeAfter(page, 'ENDED', downAt, 10000);
  await page.waitForFunction(
      () => !document.querySelector('[data-testid=guide-unknown]') &&
          document.getElementById('controls-warning').hidden,
      null, {timeout: 10000});
  await page.waitForFunction(
      (cid) => [...document.querySelectorAll('#contact-list li')].every(
          (li) => li.dataset.contact !== cid || li.querySelector('.status').textContent !== 'STATUS UNKNOWN'),
      other, {timeout: 10000});
  out.after = await shown(page);
  await page.shoot('reconnected');
  const badges = (await log(page)).badges;
  // Every state the badge showed since the server went (it showed RECORDING then).
  out.badgesSinceGone = badges.slice(badgesBefore).map((b) => b.state);
  // In page time (performance.now()): when the stream was live again, when the
  // page's reads after that were answered, and when each state showed.
  const timing = await page.evaluate(() => {
    // From the attempt that reconnected (its reads start as it opens, a hair
    // before the live indicator's mutation is observed).
    const liveAt = window.__liveAt.filter((x) => x.status === 'connecting').at(-1).t;
    const reads = performance.getEntriesByType('resource')
                      .filter((e) => e.startTime >= liveAt && new URL(e.name).pathname.startsWith('/v1/contacts'))
                      .map((e) => ({path: new URL(e.name).pathname, start: e.startTime, end: e.responseEnd}));
    return {liveAt, reads, guide: window.__guide};
  });
  out.liveAgainAt = timing.liveAt;
  out.reads = timing.reads;
  out.realShownAt = real.t;
  out.guideShown = timing.guide;

  // Live again: a change made elsewhere shows at once.
  const sent = Date.now();
  const answer = await api(
      base, config.adminToken, 'POST', `/v1/contacts/${encodeURIComponent(other)}/guide/actions`,
      {Result: 'ActionSelected', ViewResultData: {actionName: 'Start recording'}});
  await page.waitForFunction(
      (cid) => window.__e2e.lists.some((l) => l.items.includes(`${cid}=RECORDING`)), other,
      {timeout: 5000, polling: 'raf'});
  const listed = (await log(page)).lists.find((l) => l.items.includes(`${other}=RECORDING`));
  out.answerStatus = answer.status;
  out.pushShownMs = listed.now - sent;
  out.reconnectedAt = reconnected;
  out.liveStates = await page.evaluate(() => window.__live);
  out.errors = (await log(page)).errors;
  emit(out);
  await browser.close();
} catch (error) {
  emit({event: 'error', message: String((error && error.stack) || error)});
  await browser.close().catch(() => {});
  process.exit(1);
}
