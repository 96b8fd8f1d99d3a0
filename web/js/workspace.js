// The agent workspace (/): the contacts the signed-in agent handles, the
// selected contact's recording card (status badge, track choice, Start /
// Pause / Resume / Stop acting through the guide flow), the guide's Cards
// view, and the contact's event timeline, all kept live by /v1/events.
//
// A state is shown only while the server vouches for it: the event stream is
// live and the contact was read (or pushed) since the stream last (re)opened.
// Otherwise every badge and the guide's card say STATUS UNKNOWN, and the
// controls warn that an action may not take effect.

import {Api, seg} from './api.js';
import {renderCardsView} from './cards.js';
import {renderTimers} from './cardtimers.js';
import {$, el, presentState, shortClock, trackLabel, unknownState} from './dom.js';
import {EventStream} from './events.js';
import {flash, flashError, setLive, signOut, start} from './shell.js';
import {serverNow} from './session.js';
import {Timeline} from './timeline.js';

const OPERATIONS = ['START', 'PAUSE', 'RESUME', 'STOP'];
const ACTIVE = new Set(['NOT_STARTED', 'WAITING_FOR_AGENT', 'RECORDING', 'PAUSED', 'STOPPED']);

const state = {
  api: null,
  session: null,
  contacts: new Map(),  // ContactId -> contact (as listed, updated by events)
  selected: null,       // ContactId shown on the right
  guide: null,          // the selected contact's guide answer
  busy: null,           // the action name being run by the flow, if any
  guideTimer: 0,
  loadSeq: 0,
  live: false,            // the event stream is open
  epoch: 0,               // how many times it has opened
  confirmed: new Map(),   // ContactId -> epoch in which the server last told its state
  guideEpoch: -1,         // epoch in which the shown guide was read
};

// The epoch a read starting now belongs to; -1 while the stream is down, when
// no answer can be trusted to stay true.
function readEpoch() { return state.live ? state.epoch : -1; }

function confirm(contactId, epoch) {
  if (epoch >= 0 && state.live && epoch === state.epoch) state.confirmed.set(contactId, epoch);
}

function isConfirmed(contactId) {
  return state.live && state.confirmed.get(contactId) === state.epoch;
}

// How a contact is shown: its state if the server vouches for it, else UNKNOWN.
function shownState(contact) {
  return isConfirmed(contact.ContactId) ? presentState(contact) : unknownState(state.live);
}

function guideConfirmed() { return state.live && state.guideEpoch === state.epoch; }

// The stream's status drives what may be shown: down, nothing is confirmed.
function onStreamStatus(status, detail) {
  setLive(status, detail);
  const live = status === 'live';
  if (live === state.live) return;
  state.live = live;
  if (live) state.epoch += 1;  // nothing read before counts: catchUp reads it again
  renderAll();
}

function renderAll() {
  renderList();
  renderRecording();
  renderGuide();
}

let timeline;

start((session) => {
  state.session = session;
  state.api = new Api(session.token);
  timeline = new Timeline($('#timeline'), $('#timeline-empty'));
  for (const button of document.querySelectorAll('[data-op]')) {
    button.addEventListener('click', () => operate(button.dataset.op));
  }
  $('#refresh').addEventListener('click', () => loadContacts());
  window.addEventListener('hashchange', () => {
    const wanted = hashContact();
    if (wanted && wanted !== state.selected) select(wanted);
  });
  // The card's clocks count on between events.
  setInterval(renderClocks, 250);
  document.addEventListener('keydown', onShortcut);
  const stream = new EventStream(state.api, {
    onEvent: onStreamEvent,
    onStatus: onStreamStatus,
    onOpen: catchUp,
    onUnauthorized: () => {
      flash('Your token is no longer accepted.', {title: 'Signed out'});
      setTimeout(signOut, 2500);
    },
  });
  stream.start();
  const wanted = hashContact();
  if (wanted) select(wanted);
});

function hashContact() {
  const params = new URLSearchParams(location.hash.slice(1));
  return params.get('contact');
}

// ---- contacts ---------------------------------------------------------------

async function loadContacts() {
  try {
    // Every page: the list is paged (NextToken) however few contacts an agent has.
    const epoch = readEpoch();
    const fresh = new Map();
    let next = null;
    do {
      const query = '?MaxResults=1000' + (next ? `&NextToken=${encodeURIComponent(next)}` : '');
      const answer = await state.api.get(`/v1/contacts${query}`);
      for (const contact of answer.Contacts || []) {
        if (!mine(contact)) continue;
        fresh.set(contact.ContactId, {...state.contacts.get(contact.ContactId), ...contact});
      }
      next = answer.NextToken || null;
    } while (next);
    state.contacts = fresh;
    for (const contactId of fresh.keys()) confirm(contactId, epoch);
    renderList();
    if (state.selected && fresh.has(state.selected)) {
      renderRecording();
    } else if (!state.selected) {
      const first = sortedContacts().find((c) => ACTIVE.has(c.State));
      if (first) select(first.ContactId);
    }
  } catch (error) {
    flashError(error, 'Contacts could not be loaded');
  }
}

// After (re)connecting the event stream: what changed while nobody listened.
async function catchUp() {
  await loadContacts();
  const contactId = state.selected;
  if (!contactId || !state.contacts.has(contactId)) return;
  const seq = state.loadSeq;
  try {
    const epoch = readEpoch();
    const {AuditTrail, ...contact} = await state.api.get(`/v1/contacts/${seg(contactId)}`);
    if (seq !== state.loadSeq) return;
    state.contacts.set(contactId, {...state.contacts.get(contactId), ...contact});
    confirm(contactId, epoch);
    renderRecording();
    renderList();
    for (const entry of AuditTrail || []) timeline.add(entry, false);
  } catch (error) {
    flashError(error, `Contact ${contactId}`);
  }
  refreshGuide();
}

// A supervisor's token lists every agent's contacts (their page is
// supervisor.html); here, as for any agent, only their own calls.
function mine(contact) {
  return !state.session.supervisor || contact.AgentId === state.session.agentId;
}

function sortedContacts() {
  return [...state.contacts.values()].sort((a, b) => {
    const activeA = ACTIVE.has(a.State) ? 0 : 1;
    const activeB = ACTIVE.has(b.State) ? 0 : 1;
    if (activeA !== activeB) return activeA - activeB;
    return String(b.CreatedAt || '').localeCompare(String(a.CreatedAt || ''));
  });
}

function renderList() {
  const list = $('#contact-list');
  const contacts = sortedContacts();
  list.replaceChildren(...contacts.map((contact) => {
    const shown = shownState(contact);
    const meta = [
      shown.reconnecting ? 'reconnecting…' : '',
      state.session.admin && contact.AgentId ? `Agent ${contact.AgentId}` : '',
      contact.CreatedAt ? `since ${shortClock(contact.CreatedAt)}` : '', contact.Codec || ''
    ].filter(Boolean).join(' · ');
    return el(
        'li', {dataset: {contact: contact.ContactId}},
        el('button', {
          type: 'button',
          'aria-current': contact.ContactId === state.selected ? 'true' : 'false',
          onclick: () => select(contact.ContactId)
        },
           el('span', {class: 'cid', text: contact.ContactId}),
           el('span', {class: `status ${shown.tone}`, text: shown.label}),
           el('span', {class: 'meta', text: meta})));
  }));
  $('#contact-count').textContent = contacts.length ? `(${contacts.length})` : '';
  $('#no-contacts').hidden = contacts.length > 0;
}

async function select(contactId) {
  state.selected = contactId;
  state.guide = null;
  state.busy = null;
  const seq = ++state.loadSeq;
  history.replaceState(null, '', `#contact=${encodeURIComponent(contactId)}`);
  renderList();
  $('#no-selection').hidden = true;
  $('#contact-view').hidden = false;
  $('#contact-heading').textContent = contactId;
  timeline.reset([]);
  renderRecording();
  renderGuide();
  const epoch = readEpoch();
  try {
    const [contact, guide] = await Promise.all([
      state.api.get(`/v1/contacts/${seg(contactId)}`),
      state.api.get(`/v1/contacts/${seg(contactId)}/guide`),
    ]);
    if (seq !== state.loadSeq) return;
    const {AuditTrail, ...rest} = contact;
    state.contacts.set(contactId, {...state.contacts.get(contactId), ...rest});
    confirm(contactId, epoch);
    timeline.reset(AuditTrail);
    applyGuide(guide, epoch);
    renderList();
  } catch (error) {
    if (seq !== state.loadSeq) return;
    state.selected = null;
    $('#contact-view').hidden = true;
    $('#no-selection').hidden = false;
    $('#no-selection-text').textContent = error.status === 403 ?
        `You may not see contact “${contactId}”: it is handled by another agent.` :
        `Contact “${contactId}” could not be opened.`;
    flashError(error, `Contact ${contactId}`);
    renderList();
  }
}

// ---- live events ------------------------------------------------------------

function onStreamEvent(event) {
  if (event.type !== 'contact') return;
  let data;
  try {
    data = JSON.parse(event.data);
  } catch {
    return;
  }
  const {Audit, ...contact} = data;
  if (!contact.ContactId || !mine(contact)) return;
  state.contacts.set(contact.ContactId, {...state.contacts.get(contact.ContactId), ...contact});
  if (contact.State) confirm(contact.ContactId, readEpoch());  // the server's word, just now
  if (contact.ContactId === state.selected) {
    renderRecording();
    if (Audit) timeline.add(Audit);
    // The flow's own answer brings the new view when an action of ours runs.
    if (!state.busy) scheduleGuideRefresh();
  } else if (!state.selected && ACTIVE.has(contact.State)) {
    select(contact.ContactId);
  }
  renderList();
}

function scheduleGuideRefresh() {
  clearTimeout(state.guideTimer);
  state.guideTimer = setTimeout(refreshGuide, 40);
}

async function refreshGuide() {
  const contactId = state.selected;
  if (!contactId || state.busy) return;
  const seq = state.loadSeq;
  const epoch = readEpoch();
  try {
    const guide = await state.api.get(`/v1/contacts/${seg(contactId)}/guide`);
    if (seq === state.loadSeq && contactId === state.selected && !state.busy) {
      applyGuide(guide, epoch);
    }
  } catch (error) {
    flashError(error, 'The guide could not be refreshed');
  }
}

// ---- the guide --------------------------------------------------------------

// epoch: readEpoch() when the request was sent.
function applyGuide(guide, epoch) {
  state.guide = guide;
  state.guideEpoch = epoch;
  const contact = state.contacts.get(guide.ContactId || state.selected);
  if (contact && guide.State) {
    // The guide answers the contact's state as the flow left it.
    for (const key of ['State', 'RecordingState', 'Track']) {
      if (guide[key] !== undefined) contact[key] = guide[key];
    }
    confirm(contact.ContactId, epoch);
  }
  renderRecording();
  renderGuide();
  renderList();
}

// The flow's action that performs `operation` (and, for START, records `track`).
function actionFor(operation, track) {
  const map = (state.guide && state.guide.ActionOperations) || {};
  for (const [name, target] of Object.entries(map)) {
    if (!target || target.Operation !== operation) continue;
    if (operation === 'START' && (target.Track || 'ALL') !== track) continue;
    return name;
  }
  return null;
}

function allowed(operation) {
  const ops = state.guide && state.guide.Operations;
  return Boolean(ops && ops[operation]) && Boolean(state.guide.View);
}

function selectedTrack() {
  const checked = document.querySelector('input[name=track]:checked');
  return checked ? checked.value : 'ALL';
}

async function operate(operation) {
  const name = actionFor(operation, operation === 'START' ? selectedTrack() : undefined);
  if (!name) {
    flash(`The guide offers no action for ${operation}.`, {title: 'Not available'});
    return;
  }
  await runAction(name);
}

function runAction(actionName) {
  return sendViewOutput(actionName, {Result: 'ActionSelected', ViewResultData: {actionName}});
}

// The view's other results (Back, NoMatchFound): the flow routes them.
function runResult(result) {
  return sendViewOutput(result, {Result: result});
}

async function sendViewOutput(name, output) {
  const contactId = state.selected;
  if (!contactId || state.busy) return;
  state.busy = name;
  renderRecording();
  renderGuide();
  const seq = state.loadSeq;
  const epoch = readEpoch();
  try {
    const guide = await state.api.post(`/v1/contacts/${seg(contactId)}/guide/actions`, output);
    if (seq !== state.loadSeq) return;
    state.busy = null;
    applyGuide(guide, epoch);
  } catch (error) {
    if (seq !== state.loadSeq) return;
    state.busy = null;
    if (!error.status || error.status >= 500) {
      // No answer, or a failure of the server's: the action may or may not
      // have happened. Unknown until the contact is read again.
      state.confirmed.delete(contactId);
      state.guideEpoch = -1;
      renderList();
      renderGuide();
    }
    flashError(error, `“${name}” failed`);
    renderRecording();
    refreshGuide();
  }
}

// ---- rendering ----------------------------------------------------------------

function renderRecording() {
  const contact = state.contacts.get(state.selected);
  const badge = $('#status-badge');
  if (!contact) {
    badge.hidden = true;
    return;
  }
  const shown = shownState(contact);
  const stateShown = shown.unknown ? 'UNKNOWN' : contact.State || '';
  badge.hidden = false;
  if (badge.dataset.state !== stateShown || badge.textContent !== shown.label) {
    badge.className = `badge-big ${shown.tone}`;
    badge.dataset.state = stateShown;
    badge.textContent = shown.label;
  }
  $('#status-text').textContent = shown.text;
  renderClocks();
  renderDetails(contact);
  // Unconfirmed: the buttons stay as the server last allowed, but say that
  // what they ask may not happen (the server may be gone, or the state moved).
  const warning = $('#controls-warning');
  warning.hidden = !shown.unknown;
  warning.textContent = shown.unknown ? unconfirmedWarning() : '';

  const busyOp = state.busy && state.guide && state.guide.ActionOperations &&
      state.guide.ActionOperations[state.busy];
  for (const operation of OPERATIONS) {
    const button = document.querySelector(`[data-op="${operation}"]`);
    const track = operation === 'START' ? selectedTrack() : undefined;
    const possible = allowed(operation) && actionFor(operation, track) !== null;
    button.disabled = Boolean(state.busy) || !possible;
    button.title = !possible ? 'Not possible in this state' :
        shown.unknown        ? unconfirmedWarning() :
                               '';
    const spinning = busyOp && busyOp.Operation === operation;
    const spinner = button.querySelector('.busy');
    if (spinning && !spinner) button.prepend(el('span', {class: 'busy', 'aria-hidden': 'true'}));
    if (!spinning && spinner) spinner.remove();
  }
  for (const input of document.querySelectorAll('input[name=track]')) {
    input.disabled = Boolean(state.busy) || !allowed('START');
  }
}

function renderClocks() {
  const contact = state.contacts.get(state.selected);
  if (!contact || !state.session) return;
  renderTimers(contact, {
    now: serverNow(state.session),
    maxPauseSeconds: state.session.maxPauseSeconds || 0,
    known: !shownState(contact).unknown,
  });
}

// Alt+P (documented on the card and in docs/workspace.md): Pause, or Resume, the
// selected contact's recording, whichever the guide allows now; through the
// same guide action as the buttons. Alt: a plain letter would fire while typing.
function onShortcut(event) {
  if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  if (event.code !== 'KeyP') return;
  if (!state.selected || state.busy) return;
  event.preventDefault();
  for (const operation of ['PAUSE', 'RESUME']) {
    const button = document.querySelector(`[data-op="${operation}"]`);
    if (button && !button.disabled) {
      button.focus();
      operate(operation);
      return;
    }
  }
  flash('Neither Pause nor Resume is possible in this state.', {tone: 'info', title: 'Alt+P'});
}

function renderDetails(contact) {
  const pairs = [
    ['Initial contact', contact.InitialContactId],
    ['Agent', contact.AgentId || '—'],
    ['Recorded tracks', contact.State === 'NOT_STARTED' ? '—' : trackLabel(contact.Track)],
    ['Codec', contact.Codec],
    ['Agent joined',
     contact.AgentJoined === undefined ? '' :
         contact.AgentJoined           ? 'Yes' :
                                         'No'],
    ['Since', contact.CreatedAt ? shortClock(contact.CreatedAt) : ''],
    ['Instance', contact.InstanceId],
  ];
  $('#contact-attributes')
      .replaceChildren(
          ...pairs.filter(([, v]) => v !== undefined && v !== '')
              .map(([k, v]) => el('div', {}, el('dt', {text: k}), el('dd', {text: String(v)}))));
}

function unconfirmedWarning() {
  return state.live ?
      'The server has not confirmed this state yet: an action may not take effect.' :
      'Not connected to the server: an action may not take effect; its result shows once the ' +
          'server is back.';
}

function renderGuide() {
  const contactId = state.selected;
  const known = guideConfirmed() && (!contactId || isConfirmed(contactId));
  renderCardsView($('#guide-body'), state.guide, {
    unknown: known ? null : unknownState(state.live),
    onAction: runAction,
    onResult: runResult,
    resultState: () => ({enabled: !state.busy}),
    actionState: (name) => {
      const target =
          state.guide && state.guide.ActionOperations && state.guide.ActionOperations[name];
      const possible = !target || allowed(target.Operation);
      return {
        enabled: !state.busy && possible,
        busy: state.busy === name,
        title: !possible ? 'Not possible in this state' :
            known        ? '' :
                           unconfirmedWarning(),
      };
    },
  });
}

// Start's availability depends on the track chosen (an action per track).
document.addEventListener('change', (event) => {
  if (event.target && event.target.name === 'track') renderRecording();
});
