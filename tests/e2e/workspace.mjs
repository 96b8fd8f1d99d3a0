// The agent workspace end to end, in headless Chromium, against the real
// callrec-server (run by tests/interop/test_workspace.py, which places the
// SIPREC call and checks the recording's audio).
//
// Config: JSON in $CALLREC_E2E (or argv[2]):
//   {url, adminToken, alice: {id, token}, bob: {id, token}, contactId, artifacts,
//    schedule: {start, pause, resume, stop} (seconds after the call shows up)}
// Output: JSON lines on stdout: {"event":"ready"} once both agents are signed
// in (the caller then places the call), then {"event":"done", ...} with every
// measurement, or {"event":"error", ...}. Exit code 0 only after "done".

import path from 'node:path';

import {api, badgeAfter, emit, launch, log, mkdirs, newPage, pageNow, signIn, sleep} from './browser.mjs';

const config = JSON.parse(process.env.CALLREC_E2E || process.argv[2] || '{}');
const base = config.url.replace(/\/$/, '');
const id = config.contactId;
const schedule = {
  start: 0.3,
  pause: 2.4,
  resume: 4.8,
  stop: 7.2,
  ...config.schedule
};
mkdirs(config.artifacts);

const result = {
  event: 'done',
  contactId: id,
  operations: {},
  screenshots: []
};
let browser;
let alice;
let bob;

async function main() {
  browser = await launch();
  result.chromium = browser.version();
  alice = await newPage(browser, 'alice', config.artifacts);
  bob = await newPage(browser, 'bob', config.artifacts);
  result.badToken = await badSignIn(alice);
  await signIn(alice, `${base}/`, config.alice.id, config.alice.token);
  await signIn(bob, `${base}/`, config.bob.id, config.bob.token);
  result.signedInAs = await alice.textContent('[data-testid=who]');
  await alice.shoot('signed-in');
  emit({event: 'ready'});

  // The call arrives: the page selects it (pushed, not polled) and shows NOT RECORDING.
  await alice.waitForFunction(
      (cid) => document.getElementById('contact-heading').textContent === cid &&
          document.getElementById('status-badge').dataset.state,
      id, {timeout: 30000});
  const first = (await log(alice)).badges.find((b) => b.state);
  result.firstState = first.state;
  result.firstBadgeText = first.text;
  const t0 = first.t;
  await alice.waitForSelector('[data-testid=cards-view]');
  result.guide = await alice.evaluate(
      () => ({
        heading: document.querySelector('.view-heading')?.textContent || '',
        actions: [...document.querySelectorAll('[data-testid=cards-view] [data-action]')].map(
            (b) => b.dataset.action),
        attributeBar:
            [...document.querySelectorAll('.attribute-bar dd span')].map((s) => s.textContent),
      }));
  result.enabledBefore = await enabledOps(alice);
  await alice.shoot('not-recording');

  const at = async (seconds) => {
    for (;;) {
      const left = t0 + seconds * 1000 - (await pageNow(alice));
      if (left <= 0) return;
      await sleep(Math.min(left, 25));
    }
  };
  const operate = async (op, expected, label) => {
    const before = await pageNow(alice);
    await alice.click(`[data-op=${op}]`);
    const click = (await log(alice)).clicks.find((c) => c.op === op && c.t >= before);
    const badge = await badgeAfter(alice, expected, click.t);
    result.operations[op] = {
      clickAt: (click.t - t0) / 1000,  // seconds after the call showed up
      badgeAt: (badge.t - t0) / 1000,
      latencyMs: badge.t - click.t,  // click -> badge changed, in the page
      badgeText: badge.text,
    };
    result.operations[op].enabledAfter = await enabledOps(alice);
    await alice.shoot(label);
  };
  await at(schedule.start);
  await operate('START', 'RECORDING', 'recording');
  await at(schedule.pause);
  await operate('PAUSE', 'PAUSED', 'paused');
  result.pausedSection = await alice.textContent('[data-testid=guide]');
  await at(schedule.resume);
  await operate('RESUME', 'RECORDING', 'resumed');
  await at(schedule.stop);
  await operate('STOP', 'STOPPED', 'stopped');
  await sleep(200);
  result.timeline = await timeline(alice);

  // Push, not polling: a change made elsewhere (the admin, through the API) shows
  // in the list without the page asking for anything.
  result.push = await pushCheck();

  // The call ends (BYE): the badge says so.
  await badgeAfter(alice, 'ENDED', 0, 30000);
  await alice.shoot('ended');

  // The track choice: Start with "Customer only" runs the flow's TO_AGENT action.
  result.track = await trackCheck();

  // Another agent saw none of it, and may not open it.
  result.bob = await bobCheck();

  // The recording, on the recordings page.
  result.recording = await recordingsCheck();
  const bobRecordings = await bob.goto(`${base}/recordings.html`).then(async () => {
    await bob.waitForFunction(() => document.getElementById('recording-count').textContent !== '');
    return bob.$$eval('#recording-rows tr', (rows) => rows.map((r) => r.dataset.contact));
  });
  result.bob.recordingRows = bobRecordings;
  await bob.shoot('recordings');

  result.signOut = await signOutCheck(alice);
  result.pageErrors = {alice: (await log(alice)).errors, bob: (await log(bob)).errors};
  result.screenshots = [...alice.shots, ...bob.shots];
}

// A wrong token is refused and the page says so; nothing is stored.
async function badSignIn(page) {
  await page.goto(`${base}/`);
  await page.fill('#sign-in input[name=agent]', config.alice.id);
  await page.fill('#sign-in input[name=token]', 'not-a-token');
  await page.click('#sign-in button[type=submit]');
  await page.waitForSelector('#sign-in .error:not([hidden])');
  return {
    error: await page.textContent('#sign-in .error'),
    appHidden: await page.isHidden('#app'),
    stored: await page.evaluate(() => sessionStorage.length),
  };
}

// The token lives in sessionStorage until sign-out, which clears it.
async function signOutCheck(page) {
  const before = await page.evaluate(() => Object.keys(sessionStorage));
  await page.click('#sign-out');
  await page.waitForSelector('#sign-in:not([hidden])');
  return {
    keysBefore: before,
    keysAfter: await page.evaluate(() => Object.keys(sessionStorage)),
    signInShown: await page.isVisible('#sign-in'),
  };
}

async function enabledOps(page) {
  return page.$$eval(
      '[data-op]', (buttons) => buttons.filter((b) => !b.disabled).map((b) => b.dataset.op));
}

async function timeline(page) {
  return page.$$eval(
      '#timeline li', (items) => items.map((li) => ({
                                             operation: li.dataset.operation,
                                             result: li.dataset.result,
                                             text: li.textContent.replace(/\s+/g, ' ').trim(),
                                           })));
}

async function pushCheck() {
  const other = `${id}-push`;
  const created = await api(
      base, config.adminToken, 'POST', '/v1/contacts',
      {InstanceId: 'local', ContactId: other, AgentId: config.alice.id});
  if (created.status !== 201 && created.status !== 200) {
    throw new Error(`creating ${other}: ${created.status} ${created.text}`);
  }
  await alice.waitForFunction(
      (cid) => window.__e2e.lists.some((l) => l.items.some((i) => i.startsWith(`${cid}=`))), other,
      {timeout: 5000});
  const requests = [];
  const onRequest = (request) => {
    if (!request.url().includes('/v1/events'))
      requests.push(`${request.method()} ${request.url()}`);
  };
  alice.on('request', onRequest);
  const sent = Date.now();
  const answer = await api(
      base, config.adminToken, 'POST', `/v1/contacts/${encodeURIComponent(other)}/guide/actions`,
      {Result: 'ActionSelected', ViewResultData: {actionName: 'Start recording'}});
  const answered = Date.now();
  let shown = null;
  try {
    await alice.waitForFunction(
        (cid) => window.__e2e.lists.some((l) => l.items.includes(`${cid}=RECORDING`)), other,
        {timeout: 3000, polling: 'raf'});
    shown = (await log(alice)).lists.find((l) => l.items.includes(`${other}=RECORDING`)).now;
  } catch {
    // reported as not shown
  }
  await sleep(300);
  alice.off('request', onRequest);
  await api(base, config.adminToken, 'POST', `/v1/contacts/${encodeURIComponent(other)}/end`, {});
  return {
    contactId: other,
    answerStatus: answer.status,
    answerState: answer.json && answer.json.State,
    shownAfterSentMs: shown === null ? null : shown - sent,
    shownAfterAnswerMs: shown === null ? null : shown - answered,
    requestsMeanwhile: requests,
  };
}

async function trackCheck() {
  const other = `${id}-track`;
  const created = await api(
      base, config.adminToken, 'POST', '/v1/contacts',
      {InstanceId: 'local', ContactId: other, AgentId: config.alice.id});
  if (created.status !== 201 && created.status !== 200) {
    throw new Error(`creating ${other}: ${created.status} ${created.text}`);
  }
  const item = `#contact-list li[data-contact="${other}"] button`;
  await alice.waitForSelector(item);
  await alice.click(item);
  await alice.waitForFunction(
      (cid) => document.getElementById('contact-heading').textContent === cid &&
          document.getElementById('status-badge').dataset.state === 'NOT_STARTED' &&
          !document.querySelector('[data-op=START]').disabled,
      other);
  await alice.check('input[name=track][value=TO_AGENT]', {force: true});
  const before = await pageNow(alice);
  await alice.click('[data-op=START]');
  await badgeAfter(alice, 'RECORDING', before);
  await alice.waitForFunction(
      () => document.getElementById('contact-attributes').textContent.includes('TO_AGENT'));
  const shown = await alice.textContent('#contact-attributes');
  await alice.shoot('customer-only');
  const contact =
      await api(base, config.adminToken, 'GET', `/v1/contacts/${encodeURIComponent(other)}`);
  await api(base, config.adminToken, 'POST', `/v1/contacts/${encodeURIComponent(other)}/end`, {});
  return {
    contactId: other,
    track: contact.json && contact.json.Track,
    audit: contact.json &&
        contact.json.AuditTrail.map((e) => [e.Operation, e.Principal, e.Result, e.Detail]),
    shownCustomerOnly: shown.includes('Customer only (TO_AGENT)'),
  };
}

async function bobCheck() {
  const out = {};
  const lists = (await log(bob)).lists;
  out.listsSeen = lists.map((l) => l.items);
  out.contactsShown =
      await bob.$$eval('#contact-list li', (items) => items.map((li) => li.dataset.contact));
  out.noContactsShown = await bob.isVisible('[data-testid=no-contacts]');
  out.badgesSeen = (await log(bob)).badges.filter((b) => b.state).map((b) => b.state);
  // Opening it by its address: refused, and the page says so.
  await bob.goto(`${base}/#contact=${encodeURIComponent(id)}`);
  await bob.waitForSelector('.flash', {timeout: 5000});
  out.flash = (await bob.textContent('.flash')).replace(/\s+/g, ' ').trim();
  out.noSelectionText = await bob.textContent('#no-selection-text');
  out.cardVisible = await bob.isVisible('[data-testid=recording-card]');
  await bob.shoot('forbidden');
  const enc = encodeURIComponent(id);
  out.api = {
    contact: (await api(base, config.bob.token, 'GET', `/v1/contacts/${enc}`)).status,
    guide: (await api(base, config.bob.token, 'GET', `/v1/contacts/${enc}/guide`)).status,
    action: (await api(base, config.bob.token, 'POST', `/v1/contacts/${enc}/guide/actions`, {
              Result: 'ActionSelected',
              ViewResultData: {actionName: 'Pause recording'}
            })).status,
    recording: (await api(base, config.bob.token, 'GET', `/v1/recordings/${enc}`)).status,
    audio: (await api(base, config.bob.token, 'GET', `/v1/recordings/${enc}/audio`)).status,
  };
  return out;
}

async function recordingsCheck() {
  const out = {};
  const deadline = Date.now() + 20000;
  let meta = null;
  while (Date.now() < deadline) {
    const reply =
        await api(base, config.alice.token, 'GET', `/v1/recordings/${encodeURIComponent(id)}`);
    if (reply.status === 200 && reply.json && reply.json.Complete) {
      meta = reply.json;
      break;
    }
    await sleep(100);
  }
  if (!meta) throw new Error(`recording of ${id} never complete`);
  out.sha256 = meta.Sha256;
  await alice.goto(`${base}/recordings.html`);
  await alice.waitForSelector(`#recording-rows tr[data-contact="${id}"]`, {timeout: 10000});
  out.rows = await alice.$$eval('#recording-rows tr', (rows) => rows.map((r) => r.dataset.contact));
  out.row = await alice.$eval(
      `#recording-rows tr[data-contact="${id}"]`,
      (row) => [...row.cells].map((c) => c.textContent.trim()));
  await alice.shoot('recordings');
  out.filters = await filterChecks(alice, out.row[3].slice(0, 10));
  await alice.click(`#recording-rows tr[data-contact="${id}"] td`);
  await alice.waitForSelector('#detail:not([hidden])');
  await alice.waitForFunction(
      (cid) => document.getElementById('detail').dataset.contact === cid, id);
  out.shaShown = (await alice.textContent('[data-testid=sha256]')).trim();
  out.metadataText =
      (await alice.textContent('[data-testid=metadata]')).replace(/\s+/g, ' ').trim();
  out.pauseRows = await alice.$$eval(
      '#pause-rows tr', (rows) => rows.map((r) => r.textContent.replace(/\s+/g, ' ').trim()));
  out.auditShown =
      await alice.$$eval('#timeline li', (items) => items.map((li) => li.dataset.operation));
  // Selecting it made it playable: the player's own control plays it.
  await alice.waitForFunction(
      () => document.getElementById('player').readyState >= 1, null, {timeout: 10000});
  await alice.evaluate(() => document.getElementById('player').play());
  await alice.waitForFunction(() => {
    const a = document.getElementById('player');
    return a.duration > 0 && a.currentTime > 0.2;
  }, null, {timeout: 10000});
  out.audio = await alice.evaluate(() => {
    const a = document.getElementById('player');
    return {
      duration: a.duration,
      currentTime: a.currentTime,
      paused: a.paused,
      src: a.src.slice(0, 5)
    };
  });
  await alice.evaluate(() => document.getElementById('player').pause());
  await alice.shoot('recording-detail', {fullPage: true});
  const [download] =
      await Promise.all([alice.waitForEvent('download'), alice.click('[data-testid=download]')]);
  out.downloadName = download.suggestedFilename();
  out.downloadPath = path.join(config.artifacts, `download-${out.downloadName}`);
  await download.saveAs(out.downloadPath);
  // The reads just made, in the page's access history (from the audit trail).
  await alice.waitForFunction(() => {
    const text = document.getElementById('access-rows').textContent;
    return text.includes('Played') && text.includes('Downloaded');
  }, null, {timeout: 10000});
  out.accessRows = await alice.$$eval(
      '#access-rows tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim())));
  await alice.shoot('recording-access', {fullPage: true});
  return out;
}

// Each filter narrows the list as it should: {filter: contacts listed}.
async function filterChecks(page, day) {
  const rows = () => page.$$eval('#recording-rows tr', (trs) => trs.map((r) => r.dataset.contact));
  const apply = async (values) => {
    const loaded = () => page.$eval('#recording-rows', (body) => body.dataset.loads);
    const changed = (n) => page.waitForFunction(
        (m) => document.getElementById('recording-rows').dataset.loads !== m, n);
    const cleared = await loaded();
    await page.click('#filters button[type=reset]');  // reloads the list unfiltered
    await changed(cleared);
    for (const [name, value] of Object.entries(values)) {
      if (name === 'Complete')
        await page.selectOption(`#filters [name=${name}]`, value);
      else
        await page.fill(`#filters [name=${name}]`, value);
    }
    const before = await loaded();
    await page.click('#filters button[type=submit]');
    await changed(before);
    return rows();
  };
  const out = {
    contactId: await apply({ContactId: id}),
    incomplete: await apply({Complete: 'false'}),
    complete: await apply({Complete: 'true'}),
    sameDay: await apply({date: day}),
    otherDay: await apply({date: '2001-02-03'}),
  };
  await apply({});
  return out;
}

try {
  await main();
  emit(result);
  await browser.close();
  process.exit(0);
} catch (error) {
  const failure = {event: 'error', message: String(error && error.stack || error), partial: result};
  for (const page of [alice, bob]) {
    if (!page) continue;
    try {
      await page.shoot('failure');
      failure[page === alice ? 'alice' : 'bob'] = {
        log: await log(page),
        console: page.consoleLines.slice(-30)
      };
    } catch {
      // the page is gone
    }
  }
  emit(failure);
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
