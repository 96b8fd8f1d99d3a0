// The workspace's event stream survives a server restart: the page notices the
// drop, reconnects by itself, and shows a change made after it.
//
// Config: JSON in $CALLREC_E2E: {url, adminToken, alice: {id, token}, contactId, artifacts}
// Output: {"event":"ready"} once the contact shows (the caller then restarts the
// server), then {"event":"done", ...} or {"event":"error", ...}.

import {api, badgeAfter, emit, launch, log, mkdirs, newPage, pageNow, signIn} from './browser.mjs';

const config = JSON.parse(process.env.CALLREC_E2E || process.argv[2] || '{}');
const base = config.url.replace(/\/$/, '');
const id = config.contactId;
mkdirs(config.artifacts);

const browser = await launch();
try {
  const page = await newPage(browser, 'reconnect', config.artifacts);
  await signIn(
      page, `${base}/#contact=${encodeURIComponent(id)}`, config.alice.id, config.alice.token);
  await page.waitForSelector('#status-badge[data-state=NOT_STARTED]');
  await page.evaluate(() => {
    window.__live = [];
    const node = document.getElementById('live');
    new MutationObserver(() => window.__live.push(node.dataset.status))
        .observe(node, {attributes: true, attributeFilter: ['data-status']});
  });
  emit({event: 'ready'});
  // The server goes away and comes back on the same port.
  await page.waitForFunction(() => window.__live.some((s) => s !== 'live'), null, {timeout: 30000});
  await page.shoot('disconnected');
  await page.waitForFunction(
      () => window.__live.length && window.__live.at(-1) === 'live', null, {timeout: 30000});
  const reconnected = await pageNow(page);
  const answer = await api(
      base, config.adminToken, 'POST', `/v1/contacts/${encodeURIComponent(id)}/guide/actions`,
      {Result: 'ActionSelected', ViewResultData: {actionName: 'Start recording'}});
  const badge = await badgeAfter(page, 'RECORDING', reconnected, 5000);
  await page.shoot('reconnected');
  emit({
    event: 'done',
    liveStates: await page.evaluate(() => window.__live),
    answerStatus: answer.status,
    shownAfterReconnectMs: badge.t - reconnected,
    errors: (await log(page)).errors,
  });
  await browser.close();
} catch (error) {
  emit({event: 'error', message: String((error && error.stack) || error)});
  await browser.close().catch(() => {});
  process.exit(1);
}
