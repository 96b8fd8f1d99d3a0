// The contact card's clocks (issue 20.3): how long the call has lasted, how
// much of it is recorded, and while paused "Paused for 0:07" counting up, with
// the --max-pause countdown and then "overdue". The server says when the
// contact entered its state and what it had recorded before (Timing); the
// page counts on from there with its clock set to the server's.

import {$, elapsed, timeMs} from './dom.js';

// What the timers say at `now` (the server's time, ms since the epoch).
export function contactTimes(contact, now, maxPauseSeconds = 0) {
  const out = {callMs: null, recordedMs: null, pausedMs: null, maxPause: null};
  if (!contact) return out;
  const created = timeMs(contact.CreatedAt);
  const ended = contact.State === 'ENDED';
  if (created !== null) {
    const until = ended ? (timeMs(contact.UpdatedAt) ?? now) : now;
    out.callMs = Math.max(0, until - created);
  }
  const timing = contact.Timing;
  if (!timing || ended) return out;
  const since = timeMs(timing.StateSince);
  const inState = since === null ? 0 : Math.max(0, now - since);
  out.stateMs = inState;
  out.recordedMs =
      Number(timing.RecordedSeconds || 0) * 1000 + (contact.State === 'RECORDING' ? inState : 0);
  if (contact.State === 'PAUSED') {
    out.pausedMs = inState;
    if (maxPauseSeconds > 0) {
      const limitMs = maxPauseSeconds * 1000;
      out.maxPause = {
        limitMs,
        leftMs: Math.max(0, limitMs - inState),
        overMs: Math.max(0, inState - limitMs),
        overdue: inState >= limitMs || Boolean(timing.PauseOverdue),
      };
    }
  }
  return out;
}

// The sentence under the timers while a pause runs against --max-pause.
export function maxPauseText(maxPause) {
  if (!maxPause) return '';
  const limit = elapsed(maxPause.limitMs);
  if (maxPause.overdue) {
    return `Pause overdue by ${elapsed(maxPause.overMs)}: longer than the ${limit} allowed, and ` +
        'reported. The recording stays paused until you resume it.';
  }
  // Rounded up: "within 0:00" would be said while time is left.
  const left = Math.ceil(maxPause.leftMs / 1000) * 1000;
  return `Resume within ${elapsed(left)}: pauses longer than ${limit} are reported.`;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// known: the server vouches for the contact's state now (else only the call's
// length, which no state changes, is shown).
export function renderTimers(contact, {now, maxPauseSeconds, known}) {
  const times = contactTimes(contact, now, maxPauseSeconds);
  setText($('#call-elapsed'), times.callMs === null ? '—' : elapsed(times.callMs));
  setText($('#recorded'), known && times.recordedMs !== null ? elapsed(times.recordedMs) : '—');
  const paused = known && times.pausedMs !== null;
  $('#paused-for-box').hidden = !paused;
  setText($('#paused-for'), paused ? elapsed(times.pausedMs) : '');
  const box = $('#max-pause');
  const warn = known && times.maxPause;
  box.hidden = !warn;
  const tone = warn && times.maxPause.overdue ? 'overdue' : 'countdown';
  if (box.dataset.tone !== tone) box.dataset.tone = tone;
  setText(box, warn ? maxPauseText(times.maxPause) : '');
  return times;
}
