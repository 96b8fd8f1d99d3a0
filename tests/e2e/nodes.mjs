// The supervisor's page signed in on node A follows a contact of node B (two
// callrec-server nodes on one PostgreSQL; run by
// tests/interop/test_events_across_nodes.py): created, started, paused,
// resumed on B through B's own API (the agent's guide actions), each shown on
// A's page without a reload; ended on B, its row leaves A's page.
//
// $CALLREC_E2E: {a, b (base URLs), artifacts, sue: {id, token}, agent: {id,
// token}, admin (B's admin token), contact}.

import {api, emit, launch, newPage, signIn} from './browser.mjs';

const config = JSON.parse(process.env.CALLREC_E2E);
const cid = config.contact;

async function stateShown(page, state) {
  await page.waitForFunction(
      ([c, s]) => {
        const cell = document.querySelector(`#live-rows tr[data-contact="${c}"] [data-state]`);
        return cell && cell.dataset.state === s;
      },
      [cid, state], {timeout: 5000});
}

const browser = await launch();
try {
  const page = await newPage(browser, 'nodes', config.artifacts);
  await signIn(page, `${config.a}/supervisor.html`, config.sue.id, config.sue.token);
  const shown = {};
  let sent = Date.now();
  let reply = await api(config.b, config.admin, 'POST', '/v1/contacts', {
    InstanceId: 'local',
    ContactId: cid,
    InitialContactId: cid,
    AgentId: config.agent.id,
    Codec: 'PCMU',
    AgentJoined: true,
  });
  if (reply.status !== 201) throw new Error(`create on B: ${reply.status} ${reply.text}`);
  await stateShown(page, 'NOT_STARTED');
  shown.NOT_STARTED = Date.now() - sent;
  // The agent's guide on B (its run starts on first use).
  reply = await api(config.b, config.agent.token, 'GET',
                    `/v1/contacts/${encodeURIComponent(cid)}/guide`);
  if (reply.status !== 200) throw new Error(`guide on B: ${reply.status} ${reply.text}`);
  for (const [action, state] of [['Start recording', 'RECORDING'], ['Pause recording', 'PAUSED'],
                                 ['Resume recording', 'RECORDING']]) {
    sent = Date.now();
    reply = await api(
        config.b, config.agent.token, 'POST',
        `/v1/contacts/${encodeURIComponent(cid)}/guide/actions`,
        {Result: 'ActionSelected', ViewResultData: {actionName: action}});
    if (reply.status !== 200) throw new Error(`${action} on B: ${reply.status} ${reply.text}`);
    await stateShown(page, state);
    shown[`${action}`] = Date.now() - sent;
  }
  await page.shoot('supervisor-on-a');
  sent = Date.now();
  reply = await api(config.b, config.admin, 'POST', `/v1/contacts/${encodeURIComponent(cid)}/end`);
  if (reply.status !== 200) throw new Error(`end on B: ${reply.status} ${reply.text}`);
  await page.waitForFunction(
      (c) => !document.querySelector(`#live-rows tr[data-contact="${c}"]`), cid,
      {timeout: 5000});
  shown.ENDED = Date.now() - sent;
  const {errors} = await page.evaluate(() => window.__e2e);
  emit({event: 'done', shown, errors, console: page.consoleLines});
} catch (error) {
  emit({event: 'error', message: String(error && error.stack || error)});
} finally {
  await browser.close();
}
