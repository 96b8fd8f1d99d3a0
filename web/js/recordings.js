// The recordings page: a filtered list from GET /v1/recordings, and for the
// chosen recording its metadata (pauses, audit trail, checksum, Complete),
// playback and download. Audio is fetched with the Authorization header and
// played from a Blob URL (an <audio src> cannot send the header itself).

import {Api, seg} from './api.js';
import {$, dateTime, duration, el, localDate, trackLabel} from './dom.js';
import {EventStream} from './events.js';
import {flashError, setLive, start} from './shell.js';
import {Timeline} from './timeline.js';

const state = {
  api: null,
  session: null,
  recordings: [],
  loads: 0,
  selected: null,  // ContactId
  audio: null,     // {contactId, url} of the fetched WAV
  listTimer: 0,
  detailSeq: 0,
};

let timeline;

start((session) => {
  state.session = session;
  state.api = new Api(session.token);
  timeline = new Timeline($('#timeline'), $('#timeline-empty'));
  const form = $('#filters');
  if (!session.admin) {
    // An agent sees only their own recordings; the server enforces it.
    form.elements.AgentId.value = session.agentId;
    form.elements.AgentId.readOnly = true;
  }
  const params = new URLSearchParams(location.search);
  for (const name of ['ContactId', 'InitialContactId', 'date', 'Complete']) {
    if (params.get(name)) form.elements[name].value = params.get(name);
  }
  if (session.admin && params.get('AgentId')) form.elements.AgentId.value = params.get('AgentId');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    loadList();
  });
  form.addEventListener('reset', () => setTimeout(() => {
                                   if (!session.admin)
                                     form.elements.AgentId.value = session.agentId;
                                   loadList();
                                 }));
  $('#refresh').addEventListener('click', () => loadList());
  $('#play').addEventListener('click', play);
  $('#download').addEventListener('click', download);
  // A call that ends or pauses changes its recording: refresh the list then.
  new EventStream(state.api, {
    onEvent: (event) => {
      if (event.type !== 'contact') return;
      clearTimeout(state.listTimer);
      state.listTimer = setTimeout(loadList, 500);
    },
    onStatus: setLive,
  }).start();
  loadList().then(() => {
    const wanted = new URLSearchParams(location.hash.slice(1)).get('recording');
    if (wanted) select(wanted);
  });
});

function filters() {
  const form = $('#filters');
  const query = new URLSearchParams();
  for (const name of ['AgentId', 'ContactId', 'InitialContactId', 'Complete']) {
    const value = form.elements[name].value.trim();
    if (value) query.set(name, value);
  }
  return {query, date: form.elements.date.value};
}

async function loadList() {
  const {query, date} = filters();
  try {
    const answer = await state.api.get(`/v1/recordings${query.size ? `?${query}` : ''}`);
    let recordings = answer.Recordings || [];
    // The date is the day the recording started, in the browser's time zone.
    if (date) recordings = recordings.filter((r) => localDate(startOf(r)) === date);
    recordings.sort((a, b) => String(startOf(b)).localeCompare(String(startOf(a))));
    state.recordings = recordings;
    renderList();
  } catch (error) {
    flashError(error, 'Recordings could not be loaded');
  }
}

function renderList() {
  const rows = state.recordings.map((r) => {
    const pauses = pausesOf(r).length;
    const row = el(
        'tr', {
          dataset: {contact: r.ContactId},
          'aria-selected': r.ContactId === state.selected ? 'true' : 'false',
          onclick: () => select(r.ContactId)
        },
        el('td', {}, el('strong', {text: r.ContactId})), el('td', {text: r.InitialContactId || ''}),
        el('td', {text: r.AgentId || '—'}), el('td', {text: dateTime(startOf(r))}),
        el('td', {class: 'num', text: duration(r.DurationSeconds)}),
        el('td', {class: 'num', text: String(pauses)}), el('td', {}, completeStatus(r.Complete)),
        el('td', {},
           el('div', {class: 'btn-row'},
              el('button', {
                type: 'button',
                class: 'btn small',
                dataset: {play: r.ContactId},
                onclick: (event) => {
                  event.stopPropagation();
                  select(r.ContactId).then(play);
                }
              },
                 'Play'),
              el('button', {
                type: 'button',
                class: 'btn small link',
                dataset: {download: r.ContactId},
                onclick: (event) => {
                  event.stopPropagation();
                  select(r.ContactId).then(download);
                }
              },
                 'Download'))));
    return row;
  });
  $('#recording-rows').replaceChildren(...rows);
  $('#recording-rows').dataset.loads = String(++state.loads);  // each answer shown
  $('#recording-count').textContent = `(${rows.length})`;
  $('#no-recordings').hidden = rows.length > 0;
}

// The list's rows carry the metadata's names (StartTime, Pauses); issue 6's
// sketch of the API called them StartedAt and Paused.
function startOf(recording) { return recording.StartTime || recording.StartedAt || ''; }

function pausesOf(recording) {
  const pauses = recording.Pauses || recording.Paused;
  return Array.isArray(pauses) ? pauses : [];
}

function completeStatus(complete) {
  return complete ? el('span', {class: 'status success', text: 'Complete'}) :
                    el('span', {class: 'status warning', text: 'Incomplete'});
}

async function select(contactId) {
  if (state.selected === contactId && !$('#detail').hidden) return;
  state.selected = contactId;
  const seq = ++state.detailSeq;
  history.replaceState(null, '', `${location.search}#recording=${encodeURIComponent(contactId)}`);
  renderList();
  forgetAudio();
  try {
    const meta = await state.api.get(`/v1/recordings/${seg(contactId)}`);
    if (seq !== state.detailSeq) return;
    renderDetail(contactId, meta);
    await renderAccess(contactId, seq);
  } catch (error) {
    if (seq !== state.detailSeq) return;
    $('#detail').hidden = true;
    flashError(error, `Recording ${contactId}`);
  }
}

function renderDetail(contactId, meta) {
  $('#detail').hidden = false;
  $('#detail').dataset.contact = contactId;
  $('#detail-title').textContent = contactId;
  $('#detail-subtitle').textContent = meta.Format || 'Recording';
  const counters = meta.Counters || {};
  const pairs = [
    ['Status', completeStatus(meta.Complete)],
    ['Initial contact', meta.InitialContactId],
    ['Agent', meta.AgentId || '—'],
    ['Tracks', trackLabel(meta.Track)],
    ['Started', dateTime(startOf(meta))],
    ['Ended', meta.EndTime ? dateTime(meta.EndTime) : 'Still recording'],
    ['Duration', duration(meta.DurationSeconds)],
    ['Paused time', meta.PauseBehavior === 'skip' ? 'Cut out of the file' : 'Silence in the file'],
    ['Codec', meta.Codec],
    ['Packets', counters.Packets],
    ['Lost packets', counters.Lost],
    ['Dropped while paused', counters.Gated],
  ];
  const list = pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
                   .map(([k, v]) => el('div', {}, el('dt', {text: k}), el('dd', {}, v)));
  list.push(el('div', {style: 'grid-column: 1 / -1'}, el('dt', {text: 'SHA-256'}), el('dd', {
                 class: 'sha',
                 'data-testid': 'sha256',
                 text: meta.Sha256 || (meta.Complete ? '' : 'Written when the recording ends')
               })));
  if (meta.Repaired)
    list.push(el('div', {}, el('dt', {text: 'Repaired'}), el('dd', {text: 'Yes'})));
  if (meta.StorageError) {
    list.push(
        el('div', {}, el('dt', {text: 'Storage error'}), el('dd', {text: meta.StorageError})));
  }
  $('#meta').replaceChildren(...list);

  const pauses = pausesOf(meta);
  $('#pause-rows')
      .replaceChildren(...pauses.map(
          (p) => el(
              'tr', {}, el('td', {text: dateTime(p.Start)}),
              el('td', {text: p.End ? dateTime(p.End) : 'Still paused'}), el('td', {
                text: p.FileOffsetStart === undefined ?
                    '' :
                    `${duration(p.FileOffsetStart)} – ${duration(p.FileOffsetEnd)}`
              }),
              el('td', {
                class: 'num',
                text: p.PausedSeconds === undefined ? '' : `${Number(p.PausedSeconds).toFixed(1)} s`
              }))));
  $('#no-pauses').hidden = pauses.length > 0;
  $('[data-testid=pauses]').hidden = pauses.length === 0;
  timeline.reset(meta.AuditTrail || []);
  $('#raw').textContent = JSON.stringify(meta, null, 2);
}

// Who read this recording, from the contact's audit trail (the metadata file's
// own trail ends when the recording does; reads come after).
const ACCESS_OPERATIONS = {PLAYBACK: 'Played', DOWNLOAD: 'Downloaded', READ_METADATA: 'Opened'};

async function renderAccess(contactId, seq) {
  let trail = [];
  try {
    const contact = await state.api.get(`/v1/contacts/${seg(contactId)}`);
    trail = Array.isArray(contact.AuditTrail) ? contact.AuditTrail : [];
  } catch {
    trail = [];
  }
  if (seq !== state.detailSeq) return;
  const reads = trail.filter((e) => e && ACCESS_OPERATIONS[e.Operation]).reverse();
  $('#access-rows').replaceChildren(...reads.map(
      (e) => el('tr', {}, el('td', {text: dateTime(e.Time)}), el('td', {text: e.Principal || ''}),
                el('td', {text: ACCESS_OPERATIONS[e.Operation]}),
                el('td', {text: e.Operation === 'READ_METADATA' ? '' : (e.Detail || '')}))));
  $('#no-access').hidden = reads.length > 0;
  $('[data-testid=access-history]').hidden = reads.length === 0;
}

function forgetAudio() {
  const player = $('#player');
  player.pause();
  player.removeAttribute('src');
  player.load();
  if (state.audio) URL.revokeObjectURL(state.audio.url);
  state.audio = null;
}

// The WAV as a Blob URL, fetched once per recording shown.
async function audioUrl() {
  const contactId = state.selected;
  if (state.audio && state.audio.contactId === contactId) return state.audio.url;
  const blob = await state.api.blob(`/v1/recordings/${seg(contactId)}/audio?for=playback`);
  if (contactId !== state.selected) return null;
  const url = URL.createObjectURL(blob.type ? blob : new Blob([blob], {type: 'audio/wav'}));
  state.audio = {contactId, url, size: blob.size};
  return url;
}

async function play() {
  const button = $('#play');
  button.disabled = true;
  try {
    const url = await audioUrl();
    if (!url) return;
    const player = $('#player');
    if (player.src !== url) player.src = url;
    renderAccess(state.selected, state.detailSeq);
    await player.play();
  } catch (error) {
    flashError(error, 'The recording cannot be played');
  } finally {
    button.disabled = false;
  }
}

async function download() {
  const button = $('#download');
  button.disabled = true;
  try {
    // Fetched again, as a download: the server audits playback and download apart.
    const contactId = state.selected;
    const blob = await state.api.blob(`/v1/recordings/${seg(contactId)}/audio?for=download`);
    const url = URL.createObjectURL(blob);
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    const link = el('a', {href: url, download: `${state.selected}.wav`, hidden: true});
    document.body.append(link);
    link.click();
    link.remove();
    renderAccess(contactId, state.detailSeq);
  } catch (error) {
    flashError(error, 'The recording cannot be downloaded');
  } finally {
    button.disabled = false;
  }
}
