// Small DOM and formatting helpers shared by both pages.

// el('div', {class: 'x', dataset: {a: 1}, onclick: f}, child, 'text', ...)
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class')
      node.className = value;
    else if (key === 'dataset')
      Object.assign(node.dataset, value);
    else if (key === 'text')
      node.textContent = value;
    else if (key.startsWith('on'))
      node.addEventListener(key.slice(2), value);
    else if (value === true)
      node.setAttribute(key, '');
    else
      node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function $(selector, root = document) { return root.querySelector(selector); }

function pad(n, width = 2) { return String(n).padStart(width, '0'); }

function parseTime(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

// The browser's time zone at `date` as an ISO 8601 offset: +01:00, -05:00,
// +00:00. Every time shown carries it (times are local, dates ISO).
export function zone(date = new Date()) {
  const minutes = -date.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

// 14:03:07.215 +01:00 (local time), or the raw value when it is not a time.
export function clock(value, {zoned = true} = {}) {
  const date = parseTime(value);
  if (!date) return value || '';
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.` +
      pad(date.getMilliseconds(), 3) + (zoned ? ` ${zone(date)}` : '');
}

// 14:03:07 +01:00 (local time).
export function shortClock(value) {
  const date = parseTime(value);
  if (!date) return value || '';
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${
      zone(date)}`;
}

// 2024-05-01 14:03:07 +01:00 (local time, ISO 8601 date and offset).
export function dateTime(value) {
  const date = parseTime(value);
  if (!date) return value || '';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
      `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${zone(date)}`;
}

// A length of time as a running clock shows it: 0:07, 12:03, 1:02:03.
export function elapsed(ms) {
  const total = Math.max(0, Math.floor((Number(ms) || 0) / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor(total / 60) % 60;
  const seconds = total % 60;
  return hours ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${minutes}:${pad(seconds)}`;
}

export function timeMs(value) {
  const date = parseTime(value);
  return date ? date.getTime() : null;
}

// YYYY-MM-DD of a time in local time (what an <input type=date> holds).
export function localDate(value) {
  const date = parseTime(value);
  if (!date) return '';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(Number(seconds))) return '';
  const total = Number(seconds);
  const minutes = Math.floor(total / 60);
  const rest = total - minutes * 60;
  return `${minutes}:${rest.toFixed(1).padStart(4, '0')}`;
}

// How a contact's State is shown: the badge's text, its colour, and a sentence.
export function presentState(contact) {
  const track = trackName(contact.Track);
  switch (contact.State) {
    case 'RECORDING':
      return {label: 'RECORDING', tone: 'success', text: `Recording ${track}.`};
    case 'PAUSED':
      return {label: 'PAUSED', tone: 'warning', text: 'Paused: nothing is being recorded.'};
    case 'NOT_STARTED':
      return {label: 'NOT RECORDING', tone: 'error', text: 'Recording has not been started.'};
    case 'WAITING_FOR_AGENT':
      return {
        label: 'WAITING FOR AGENT',
        tone: 'info',
        text: 'Recording starts when the agent joins; nothing is recorded yet.',
      };
    case 'STOPPED':
      return {
        label: 'STOPPED',
        tone: 'error',
        text: 'Recording stopped: nothing more is recorded.'
      };
    case 'ENDED': {
      const last = contact.RecordingState && contact.RecordingState !== 'ENDED' ?
          ` (recording ${String(contact.RecordingState).toLowerCase().replace(/_/g, ' ')})` :
          '';
      return {label: 'ENDED', tone: 'neutral', text: `The contact has ended${last}.`};
    }
    default:
      return {
        label: contact.State ? String(contact.State).replace(/_/g, ' ') : 'STATUS UNKNOWN',
        tone: 'neutral',
        text: '',
      };
  }
}

// What every badge shows while the server has not confirmed the state (the
// event stream is down or stale, or the contact not yet read again since it
// reopened or since an action got no answer): neutral, never a colour that
// claims a state. connected: the stream is live (the page is reading it again).
export function unknownState(connected = false) {
  return {
    label: 'STATUS UNKNOWN',
    tone: 'neutral',
    text: connected ? 'Reading the recording state from the server again…' :
                      'Reconnecting to the server: the recording state shows again once the ' +
            'server has confirmed it.',
    unknown: true,
    reconnecting: !connected,
  };
}

export function trackName(track) {
  switch (track) {
    case 'ALL':
      return 'both tracks';
    case 'TO_AGENT':
      return 'the customer only';
    case 'FROM_AGENT':
      return 'the agent only';
    default:
      return track ? String(track) : 'both tracks';
  }
}

// Both (ALL), Customer only (TO_AGENT), Agent only (FROM_AGENT).
export function trackLabel(track) {
  const names = {ALL: 'Both', TO_AGENT: 'Customer only', FROM_AGENT: 'Agent only'};
  return names[track] ? `${names[track]} (${track})` : track || '';
}

export function resultTone(result) {
  if (result === 'OK') return 'success';
  if (result === 'UNCHANGED') return '';
  return 'error';
}

export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    if (button) {
      const before = button.textContent;
      button.textContent = 'Copied';
      setTimeout(() => (button.textContent = before), 1200);
    }
  } catch {
    // clipboard refused (insecure context): nothing to do
  }
}
