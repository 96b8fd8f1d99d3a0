// The agent's workspace signed in on node A drives a call recorded on node B
// (two callrec-server nodes on one PostgreSQL; run by
// tests/interop/test_drive_across_nodes.py, which creates the contact on B,
// sends its RTP to B and checks B's recording). The agent clicks the guide
// card's Start, Pause, Resume and Stop on A's page; each goes through A's guide
// run and is applied by B, the contact's owner. After each badge change the
// script reads the contact's state from B's own /v1.
//
// $CALLREC_E2E: {a, b (base URLs), admin (B's admin token), agent: {id, token},
//   contact, artifacts, schedule: {start (s after the contact shows), pause (s
//   after START's badge), holdMs (PAUSED badge -> Resume click), stop (s after
//   RESUME's badge)}}.
// Out (JSON lines): {"event":"ready"} once signed in (the caller then creates the
// contact); {"event":"op", op, clickNow, ackNow} as each badge changes (wall
// clock ms: the caller's RTP sender reads PAUSE's); then {"event":"done", ...}
// or {"event":"error", ...}.

import {api, badgeAfter, emit, launch, log, newPage, pageNow, signIn, sleep} from './browser.mjs';

const config = JSON.parse(process.env.CALLREC_E2E);
const cid = config.contact;
const schedule = {start: 0.5, pause: 1.5, holdMs: 2000, stop: 1.5, ...config.schedule};
const STEPS = [
  ['START', 'RECORDING', 'recording'], ['PAUSE', 'PAUSED', 'paused'],
  ['RESUME', 'RECORDING', 'resumed'], ['STOP', 'STOPPED', 'stopped']
];

async function enabledOps(page) {
  return page.$$eval(
      '[data-op]', (buttons) => buttons.filter((b) => !b.disabled).map((b) => b.dataset.op));
}

async function untilWall(ms) {
  for (;;) {
    const left = ms - Date.now();
    if (left <= 0) return;
    await sleep(Math.min(left, 20));
  }
}

const result = {event: 'done', operations: {}, actionRequests: []};
const browser = await launch();
let page;
try {
  page = await newPage(browser, 'drive', config.artifacts);
  page.on('request', (request) => {
    if (request.url().includes('/guide/actions')) result.actionRequests.push(request.url());
  });
  await signIn(page, `${config.a}/`, config.agent.id, config.agent.token);
  result.signedInAs = await page.textContent('[data-testid=who]');
  emit({event: 'ready'});

  // The contact, created on B, shows on A's page (pushed through the shared
  // store's notifications) with its guide card.
  await page.waitForFunction(
      (c) => document.getElementById('contact-heading').textContent === c &&
          document.getElementById('status-badge').dataset.state,
      cid, {timeout: 15000});
  await page.waitForSelector('[data-testid=cards-view]');
  await page.waitForFunction(() => !document.querySelector('[data-op=START]').disabled);
  result.firstBadge = (await log(page)).badges.find((b) => b.state);
  result.enabledBefore = await enabledOps(page);
  await page.shoot('not-recording');

  let due = Date.now() + schedule.start * 1000;
  for (const [op, expected, label] of STEPS) {
    await untilWall(due);
    const before = await pageNow(page);
    const clickNow = Date.now();
    await page.click(`[data-op=${op}]`);
    const click = (await log(page)).clicks.find((c) => c.op === op && c.t >= before);
    const badge = await badgeAfter(page, expected, click.t);
    emit({event: 'op', op, clickNow, ackNow: badge.now});
    // What the owner holds, asked of the owner itself.
    const onB = await api(config.b, config.admin, 'GET', `/v1/contacts/${encodeURIComponent(cid)}`);
    result.operations[op] = {
      clickNow,
      ackNow: badge.now,
      latencyMs: badge.t - click.t,
      badgeState: badge.state,
      badgeText: badge.text,
      stateOnB: onB.json && onB.json.State,
      statusOnB: onB.status,
      enabledAfter: await enabledOps(page),
    };
    await page.shoot(label);
    due = op === 'START' ? badge.now + schedule.pause * 1000 :
        op === 'PAUSE'   ? badge.now + schedule.holdMs :
                           badge.now + schedule.stop * 1000;
  }
  result.timeline = await page.$$eval(
      '#timeline li',
      (items) => items.map((li) => ({operation: li.dataset.operation, result: li.dataset.result})));
  result.errors = (await log(page)).errors;
  result.screenshots = page.shots;
  emit(result);
} catch (error) {
  const failure = {event: 'error', message: String(error && error.stack || error), partial: result};
  if (page) {
    try {
      await page.shoot('failure');
      failure.log = await log(page);
      failure.console = page.consoleLines.slice(-30);
    } catch {
      // the page is gone
    }
  }
  emit(failure);
} finally {
  await browser.close();
}
