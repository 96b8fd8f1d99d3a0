// A recording drawn as the server's peaks (GET /v1/recordings/{id}/peaks):
// both channels (customer above, agent below), the paused spans shaded and
// labelled (silence in the file, or cut out of it), the audit trail's
// operations as marks, and the playhead. Clicking the waveform or a mark
// seeks the player there. The canvas has the picture; the labels, marks and
// playhead are elements over it (focusable, and readable by tests).

import {el, elapsed} from './dom.js';

const LANE_PAD = 6;  // px (canvas) above and below each lane the waveform never reaches
const SHADE = {
  silence: 'rgba(242, 205, 84, 0.45)',
  cut: 'rgba(217, 21, 21, 0.85)'
};
const MARKED = new Set(
    ['START', 'PAUSE', 'RESUME', 'STOP', 'AGENT_JOINED', 'PAUSE_OVERDUE', 'RTP_SOURCE_CHANGED']);

// The metadata's pauses as spans of the file: [{start, end, kind, paused}] in
// seconds; a cut pause (skip) is a point where the time was taken out.
export function pauseSpans(meta) {
  const skip = meta.PauseBehavior === 'skip';
  return (Array.isArray(meta.Pauses) ? meta.Pauses : [])
      .filter((p) => p.FileOffsetStart !== undefined)
      .map((p) => ({
             start: Number(p.FileOffsetStart),
             end: Number(skip ? p.FileOffsetStart : p.FileOffsetEnd),
             kind: skip ? 'cut' : 'silence',
             paused: Number(p.PausedSeconds || 0),
             wallStart: Date.parse(p.Start || ''),
             wallEnd: Date.parse(p.End || ''),
           }));
}

// Where a moment of the call (ms since the epoch) is in the file, from the
// anchors the metadata gives: the start, each pause's two ends, the end. In
// between, the file runs with the clock; a moment within a pause is its start
// (its end for `resuming`: the RESUME is decided just before the pause's End
// is taken). null outside the recording.
export function fileOffsetOf(meta, ms, {resuming = false} = {}) {
  const start = Date.parse(meta.StartTime || '');
  const end = Date.parse(meta.EndTime || '');
  const duration = Number(meta.DurationSeconds || 0);
  if (Number.isNaN(start) || ms < start - 1000) return null;
  if (!Number.isNaN(end) && ms > end + 1000) return null;
  let anchorWall = start;
  let anchorFile = 0;
  for (const span of pauseSpans(meta)) {
    if (Number.isNaN(span.wallStart) || ms < span.wallStart) break;
    if (Number.isNaN(span.wallEnd) || ms < span.wallEnd) {
      return resuming ? span.end : span.start;  // while paused
    }
    anchorWall = span.wallEnd;
    anchorFile = span.end;
  }
  return Math.min(duration, Math.max(0, anchorFile + (ms - anchorWall) / 1000));
}

// The audit trail's operations within the recording, placed in the file.
export function auditMarks(meta) {
  const marks = [];
  for (const entry of Array.isArray(meta.AuditTrail) ? meta.AuditTrail : []) {
    if (!MARKED.has(entry.Operation) || entry.Result !== 'OK') continue;
    const at =
        fileOffsetOf(meta, Date.parse(entry.Time || ''), {resuming: entry.Operation === 'RESUME'});
    if (at === null) continue;
    marks.push(
        {at, operation: entry.Operation, principal: entry.Principal || '', time: entry.Time});
  }
  return marks;
}

export class Waveform {
  constructor(root, {onSeek}) {
    this.root = root;
    this.onSeek = onSeek;
    this.canvas = root.querySelector('canvas');
    this.overlay = root.querySelector('.wave-overlay');
    this.playhead = root.querySelector('.playhead');
    this.note = root.querySelector('.wave-note');
    this.duration = 0;
    this.canvas.addEventListener('click', (event) => {
      if (!this.duration) return;
      const box = this.canvas.getBoundingClientRect();
      this.onSeek(((event.clientX - box.left) / box.width) * this.duration);
    });
  }

  // How many buckets to ask for: one per device pixel of the canvas.
  width() {
    const css = this.canvas.clientWidth || 800;
    return Math.max(1, Math.min(8192, Math.round(css * (window.devicePixelRatio || 1))));
  }

  clear(message) {
    this.duration = 0;
    this.root.dataset.ready = 'false';
    this.canvas.getContext('2d').clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.overlay.replaceChildren();
    this.playhead.hidden = true;
    this.note.textContent = message || '';
    this.note.hidden = !message;
  }

  show(meta, peaks) {
    const canvas = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round((canvas.clientWidth || 800) * dpr);
    canvas.height = Math.round((canvas.clientHeight || 160) * dpr);
    this.duration = Number(peaks.DurationSeconds) || Number(meta.DurationSeconds) || 0;
    const ctx = canvas.getContext('2d');
    const {width: w, height: h} = canvas;
    ctx.clearRect(0, 0, w, h);
    const x = (seconds) => (this.duration ? (seconds / this.duration) * w : 0);
    const spans = pauseSpans(meta);
    // The paused spans first, over the whole height: the waveform is drawn on them.
    for (const span of spans) {
      ctx.fillStyle = SHADE[span.kind];
      const left = x(span.start);
      const width = span.kind === 'cut' ? Math.max(3 * dpr, 1) : Math.max(1, x(span.end) - left);
      ctx.fillRect(span.kind === 'cut' ? left - width / 2 : left, 0, width, h);
    }
    const lane = h / 2;
    const scale = Math.max(
        1000,
        ...['Customer', 'Agent'].flatMap(
            (name) => [...(peaks[name]?.Max || []), ...(peaks[name]?.Min || []).map((v) => -v)]));
    ['Customer', 'Agent'].forEach((name, index) => {
      const top = index * lane;
      const middle = top + lane / 2;
      const half = lane / 2 - LANE_PAD * dpr;
      ctx.fillStyle = index === 0 ? '#0972d3' : '#037f0c';
      const mins = peaks[name]?.Min || [];
      const maxs = peaks[name]?.Max || [];
      const n = maxs.length;
      for (let i = 0; i < n; i++) {
        const x0 = (i / n) * w;
        const x1 = Math.max(x0 + 1, ((i + 1) / n) * w);
        const y0 = middle - (maxs[i] / scale) * half;
        const y1 = middle - (mins[i] / scale) * half;
        ctx.fillRect(x0, y0, x1 - x0, Math.max(1, y1 - y0));
      }
      ctx.fillStyle = 'rgba(0, 7, 22, 0.25)';
      ctx.fillRect(0, middle, w, 1);
    });
    ctx.fillStyle = 'rgba(0, 7, 22, 0.18)';
    ctx.fillRect(0, lane, w, 1);

    const percent = (seconds) => `${this.duration ? (seconds / this.duration) * 100 : 0}%`;
    const labels = spans.map(
        (span, index) =>
            el('button', {
              type: 'button',
              class: `wave-pause ${span.kind}`,
              style: `left:${percent(span.start)};width:${
                  span.kind === 'cut' ? '0' : percent(span.end - span.start)}`,
              dataset: {start: span.start, end: span.end, kind: span.kind, index},
              title: `Paused ${span.paused.toFixed(1)} s: ${
                  span.kind === 'cut' ? 'cut out of the file here' : 'silence in the file'}`,
              onclick: () => this.onSeek(span.start),
            },
               span.kind === 'cut' ? `Cut ${span.paused.toFixed(1)} s` :
                                     `Paused ${span.paused.toFixed(1)} s · silence`));
    // Labels of marks close together go on rows of their own; near the right
    // edge a label is written to the left of its line.
    const rowEnds = [];
    const marks =
        auditMarks(meta)
            .sort((a, b) => a.at - b.at)
            .map((mark) => {
              const px = this.duration ? (mark.at / this.duration) * canvas.clientWidth : 0;
              let row = rowEnds.findIndex((end) => end < px);
              if (row < 0) row = rowEnds.length;
              rowEnds[row] = px + 8 * mark.operation.length + 12;
              return {...mark, row, flip: px > canvas.clientWidth - 110};
            })
            .map(
                (mark) =>
                    el('button', {
                      type: 'button',
                      class:
                          `wave-mark op-${mark.operation.toLowerCase()}${mark.flip ? ' flip' : ''}`,
                      style: `left:${percent(mark.at)};--row:${mark.row}`,
                      dataset: {offset: mark.at, operation: mark.operation},
                      title: `${mark.operation} by ${mark.principal} at ${
                          elapsed(mark.at * 1000)} in the file`,
                      'aria-label':
                          `${mark.operation} at ${elapsed(mark.at * 1000)}: play from here`,
                      onclick: () => this.onSeek(mark.at),
                    },
                       el('span', {text: mark.operation.replace(/_/g, ' ')})));
    this.overlay.replaceChildren(...labels, ...marks);
    this.note.hidden = true;
    this.playhead.hidden = false;
    this.root.dataset.ready = 'true';
    this.root.dataset.duration = String(this.duration);
    this.setTime(0);
  }

  setTime(seconds) {
    if (!this.duration) return;
    const share = Math.min(1, Math.max(0, seconds / this.duration));
    this.playhead.style.left = `${share * 100}%`;
    this.playhead.dataset.time = String(seconds);
  }
}
