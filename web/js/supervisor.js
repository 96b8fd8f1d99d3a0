// The supervisor's page (issue 20.4): every live contact by agent, with its
// recording state, how long it has been in it, its pause, and what needs
// attention (a pause beyond --max-pause, a call never recorded); counts by
// state at the top. Live from the same /v1/events stream as the workspace;
// while the stream is down no state is claimed (STATUS UNKNOWN).

import {Api} from './api.js';
import {contactTimes} from './cardtimers.js';
import {$, el, elapsed, presentState, unknownState} from './dom.js';
import {EventStream} from './events.js';
import {serverNow} from './session.js';
import {flashError, setLive, start} from './shell.js';

const COUNTED = ['RECORDING', 'PAUSED', 'NOT_STARTED', 'WAITING_FOR_AGENT', 'STOPPED'];

const state = {
  api: null,
  session: null,
  contacts: new Map(),  // ContactId -> contact, live ones only
  live: false,
  loaded: false,  // read since the stream last opened
};

start((session) => {
  state.session = session;
  if (!session.admin && !session.supervisor) {
    $('#not-allowed').hidden = false;
    return;
  }
  $('#board').hidden = false;
  state.api = new Api(session.token);
  $('#policy').textContent = session.maxPauseSeconds ?
      `Pauses longer than ${elapsed(session.maxPauseSeconds * 1000)} are overdue (--max-pause).` :
      'No pause limit is set (--max-pause).';
  $('#refresh').addEventListener('click', load);
  new EventStream(state.api, {
    onEvent,
    onStatus: (status, detail) => {
      setLive(status, detail);
      state.live = status === 'live';
      if (!state.live) state.loaded = false;
      render();
    },
    onOpen: load,
  }).start();
  setInterval(render, 500);
});

async function load() {
  try {
    const fresh = new Map();
    let next = null;
    do {
      const query = '?MaxResults=1000' + (next ? `&NextToken=${encodeURIComponent(next)}` : '');
      const answer = await state.api.get(`/v1/contacts${query}`);
      for (const contact of answer.Contacts || []) {
        if (contact.State !== 'ENDED') fresh.set(contact.ContactId, contact);
      }
      next = answer.NextToken || null;
    } while (next);
    state.contacts = fresh;
    state.loaded = state.live;
    render();
  } catch (error) {
    flashError(error, 'Contacts could not be loaded');
  }
}

function onEvent(event) {
  if (event.type !== 'contact') return;
  let data;
  try {
    data = JSON.parse(event.data);
  } catch {
    return;
  }
  const {Audit, ...contact} = data;
  if (!contact.ContactId) return;
  if (contact.State === 'ENDED') {
    state.contacts.delete(contact.ContactId);
  } else {
    state.contacts.set(contact.ContactId, {...state.contacts.get(contact.ContactId), ...contact});
  }
  render();
}

// What needs a supervisor's eye, from the times at `now`.
export function attention(contact, times, maxPauseSeconds) {
  const flags = [];
  if (times.maxPause && times.maxPause.overdue) flags.push('overdue');
  const recorded = contact.Timing ? Number(contact.Timing.RecordedSeconds || 0) : 0;
  if (contact.State !== 'RECORDING' && recorded === 0) flags.push('never-recorded');
  return flags;
}

function render() {
  if (!state.session || !state.api) return;
  const known = state.live && state.loaded;
  const now = serverNow(state.session);
  const max = state.session.maxPauseSeconds || 0;
  const contacts = [...state.contacts.values()].sort(
      (a, b) => String(a.AgentId).localeCompare(String(b.AgentId)) ||
          String(a.CreatedAt).localeCompare(String(b.CreatedAt)));
  const counts = Object.fromEntries(COUNTED.map((s) => [s, 0]));
  let overdue = 0;
  let never = 0;
  const rows = contacts.map((contact, index) => {
    const times = contactTimes(contact, now, max);
    const flags = known ? attention(contact, times, max) : [];
    if (contact.State in counts) counts[contact.State] += 1;
    if (flags.includes('overdue')) overdue += 1;
    if (flags.includes('never-recorded')) never += 1;
    const shown = known ? presentState(contact) : unknownState(state.live);
    const firstOfAgent = index === 0 || contacts[index - 1].AgentId !== contact.AgentId;
    return el(
        'tr', {
          class: flags.join(' '),
          dataset:
              {contact: contact.ContactId, agent: contact.AgentId || '', flags: flags.join(',')}
        },
        el('th', {
          scope: 'row',
          class: firstOfAgent ? 'agent' : 'agent repeat',
          text: contact.AgentId || '—'
        }),
        el('td', {text: contact.ContactId}),
        el('td', {}, el('span', {
             class: `status ${shown.tone}`,
             dataset: {state: known ? contact.State : 'UNKNOWN'},
             text: shown.label
           })),
        el('td', {
          class: 'num',
          dataset: {cell: 'in-state'},
          text: known && times.stateMs !== undefined ? elapsed(times.stateMs) : '—'
        }),
        el('td', {
          class: 'num',
          dataset: {cell: 'pause'},
          text: known && times.pausedMs !== null ? elapsed(times.pausedMs) : ''
        }),
        el('td', {
          class: 'num',
          text: known && times.recordedMs !== null ? elapsed(times.recordedMs) : '—'
        }),
        el('td', {class: 'num', text: times.callMs === null ? '' : elapsed(times.callMs)}),
        el('td', {},
           ...flags.map(
               (flag) => el('span', {
                 class: `flag ${flag}`,
                 text: flag === 'overdue' ? `Paused over ${elapsed(max * 1000)}` : 'Never recorded',
               }))));
  });
  $('#live-rows').replaceChildren(...rows);
  $('#live-count').textContent = `(${rows.length})`;
  $('#no-live').hidden = rows.length > 0;
  const count = (label, value, key, tone) =>
      el('li', {class: tone, dataset: {count: key}},
         el('span', {class: 'n', text: known ? String(value) : '—'}),
         el('span', {class: 'what', text: label}));
  $('#counts').replaceChildren(
      count('live', rows.length, 'LIVE', ''),
      ...COUNTED.map(
          (s) => count(
              presentState({State: s}).label.toLowerCase(), counts[s], s,
              presentState({State: s}).tone)),
      count('paused too long', overdue, 'OVERDUE', overdue ? 'alert' : ''),
      count('never recorded', never, 'NEVER_RECORDED', never ? 'alert' : ''));
}
