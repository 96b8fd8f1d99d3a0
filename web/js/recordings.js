// The recordings page: a filtered list from GET /v1/recordings, and for the
// chosen recording its metadata (pauses, audit trail, checksum, Complete),
// its waveform with the pauses and operations on it, playback and download.
// Audio is fetched with the Authorization header as soon as a recording is
// chosen and played from a Blob URL (an <audio src> cannot send the header
// itself): the player's own control is the only Play.

import {Api, seg} from './api.js';
import {$, dateTime, duration, el, localDate, trackLabel, zone} from './dom.js';
import {EventStream} from './events.js';
import {flashError, setLive, start} from './shell.js';
import {Timeline} from './timeline.js';
import {Waveform} from './waveform.js';

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
let waveform;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

start((session) => {
  state.session = session;
  state.api = new Api(session.token);
  timeline = new Timeline($('#timeline'), $('#timeline-empty'));
  waveform = new Waveform($('#waveform'), {onSeek: seek});
  const player = $('#player');
  const follow = () => {
    waveform.setTime(player.currentTime);
    if (!player.paused) requestAnimationFrame(follow);
  };
  for (const type of ['timeupdate', 'seeked', 'play']) player.addEventListener(type, follow);
  $('#date-zone').textContent = `(YYYY-MM-DD, ${zone()})`;
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
  return {query, date: form.elements.date.value.trim()};
}

async function loadList() {
  const {query, date} = filters();
  const dateInput = $('#filters').elements.date;
  if (date && !ISO_DATE.test(date)) {
    dateInput.setAttribute('aria-invalid', 'true');
    flashError(new Error(`“${date}” is not a date as YYYY-MM-DD (e.g. 2026-12-07).`), 'Date');
    return;
  }
  dateInput.removeAttribute('aria-invalid');
  try {
    // Every page: the list is paged (NextToken) in ContactId order.
    query.set('MaxResults', '1000');
    let recordings = [];
    let next = null;
    do {
      if (next) query.set('NextToken', next);
      const answer = await state.api.get(`/v1/recordings?${query}`);
      recordings = recordings.concat(answer.Recordings || []);
      next = answer.NextToken || null;
    } while (next);
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
        el('td', {},
           el('button', {
             type: 'button',
             class: 'link-button',
             text: r.ContactId,
             title: 'Open this recording',
             onclick: (event) => {
               event.stopPropagation();
               select(r.ContactId);
             }
           })),
        el('td', {text: r.InitialContactId || ''}),
        el('td', {text: r.AgentId || '—'}), el('td', {text: dateTime(startOf(r))}),
        el('td', {class: 'num', text: duration(r.DurationSeconds)}),
        el('td', {class: 'num', text: String(pauses)}), el('td', {}, completeStatus(r.Complete)),
        el('td', {}, storedStatus(r.Storage)),
        el('td', {},
           el('div', {class: 'btn-row'},
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

// Where the recording lives (the server's own words: local, uploading, s3,
// local+s3) with the object's key and the upload's last error as its title.
function storedStatus(storage) {
  if (!storage) return el('span', {text: '—'});
  const title = [storage.Key ? `s3://${storage.Bucket}/${storage.Key}` : '',
                 storage.LastError ? `last error: ${storage.LastError}` : ''].filter(Boolean);
  const tone = storage.Where === 'uploading' ? 'warning' :
               storage.Where === 'missing'   ? 'error' : 'neutral';
  return el('span', {
    class: `status ${tone}`,
    dataset: {where: storage.Where, upload: storage.UploadState},
    title: title.join('\n') || 'In the data directory',
    text: storage.Where,
  });
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
    // Playable at once: the WAV is fetched now, then the waveform's peaks.
    await loadAudio(contactId, seq);
    await loadWaveform(contactId, meta, seq);
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
          (p, index) => el(
              'tr', {
                class: 'seekable',
                dataset: {offset: p.FileOffsetStart, index},
                title: 'Play from the pause',
                onclick: () => seek(Number(p.FileOffsetStart))
              },
              el('td', {text: dateTime(p.Start)}),
              el('td', {text: p.End ? dateTime(p.End) : 'Still paused'}), el('td', {
                text: p.FileOffsetStart === undefined ?
                    '' :
                    `${duration(p.FileOffsetStart)} – ${duration(p.FileOffsetEnd)}`
              }),
              el('td', {
                class: 'num',
                text: p.PausedSeconds === undefined ? '' : `${Number(p.PausedSeconds).toFixed(1)} s`
              }),
              el('td', {},
                 el('button', {
                   type: 'button',
                   class: 'btn small',
                   'aria-label': `Play from the pause at ${duration(p.FileOffsetStart)}`,
                   dataset: {seek: p.FileOffsetStart},
                   onclick: (event) => {
                     event.stopPropagation();
                     seek(Number(p.FileOffsetStart));
                   }
                 },
                    `▶ ${duration(p.FileOffsetStart)}`)))));
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
  if (waveform) waveform.clear();
  state.audio = null;
}

// The WAV as a Blob URL in the player, fetched once per recording shown (the
// fetch is the audited read: PLAYBACK).
async function loadAudio(contactId, seq) {
  const note = $('#player-state');
  note.textContent = 'Loading the audio…';
  try {
    const blob = await state.api.blob(`/v1/recordings/${seg(contactId)}/audio?for=playback`);
    if (seq !== state.detailSeq) return;
    const url = URL.createObjectURL(blob.type ? blob : new Blob([blob], {type: 'audio/wav'}));
    state.audio = {contactId, url, size: blob.size};
    $('#player').src = url;
    note.textContent = 'Play with the player; click the waveform, a mark or a pause to go there.';
  } catch (error) {
    if (seq !== state.detailSeq) return;
    note.textContent = 'The audio could not be loaded.';
    flashError(error, 'The recording cannot be played');
  }
}

async function loadWaveform(contactId, meta, seq) {
  if (!meta.EndTime) {
    waveform.clear('The waveform is drawn once the recording has ended.');
    return;
  }
  waveform.clear('Drawing the waveform…');
  try {
    const peaks =
        await state.api.get(`/v1/recordings/${seg(contactId)}/peaks?width=${waveform.width()}`);
    if (seq !== state.detailSeq) return;
    waveform.show(meta, peaks);
  } catch (error) {
    if (seq !== state.detailSeq) return;
    waveform.clear(`The waveform could not be drawn: ${error.message}`);
  }
}

// Moves the player (and the playhead) to `seconds` in the file.
function seek(seconds) {
  const player = $('#player');
  if (!Number.isFinite(seconds)) return;
  const go = () => {
    player.currentTime = Math.max(0, seconds);
    waveform.setTime(player.currentTime);
  };
  if (player.readyState >= 1) {
    go();
  } else {
    player.addEventListener('loadedmetadata', go, {once: true});
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
