// The pure parts of issue 20's views, without a browser: the card's clocks and
// the --max-pause countdown (web/js/cardtimers.js), and where the waveform puts
// pauses and audit marks in the file (web/js/waveform.js).
// Run: node --test tests/e2e/
import assert from 'node:assert/strict';
import test from 'node:test';

import {contactTimes, maxPauseText} from '../../web/js/cardtimers.js';
import {elapsed} from '../../web/js/dom.js';
import {auditMarks, fileOffsetOf, pauseSpans} from '../../web/js/waveform.js';

const T0 = Date.parse('2026-12-07T08:00:00.000Z');
const iso = (ms) => new Date(T0 + ms).toISOString();

test('elapsed', () => {
  assert.equal(elapsed(0), '0:00');
  assert.equal(elapsed(7999), '0:07');
  assert.equal(elapsed(62_000), '1:02');
  assert.equal(elapsed(3_723_000), '1:02:03');
  assert.equal(elapsed(-5), '0:00');
});

test('clocks while recording, paused, and past --max-pause', () => {
  const recording = {
    State: 'RECORDING',
    CreatedAt: iso(0),
    Timing: {StateSince: iso(10_000), RecordedSeconds: 4, PauseOverdue: false}
  };
  let t = contactTimes(recording, T0 + 15_000, 30);
  assert.equal(t.callMs, 15_000);
  assert.equal(t.recordedMs, 9_000);  // 4 s before, 5 s since
  assert.equal(t.pausedMs, null);
  assert.equal(t.maxPause, null);
  const paused = {...recording, State: 'PAUSED', Timing: {...recording.Timing}};
  t = contactTimes(paused, T0 + 17_000, 30);
  assert.equal(t.recordedMs, 4_000, 'recorded time stands still');
  assert.equal(t.pausedMs, 7_000);
  assert.deepEqual(t.maxPause, {limitMs: 30_000, leftMs: 23_000, overMs: 0, overdue: false});
  assert.match(maxPauseText(t.maxPause), /^Resume within 0:23: pauses longer than 0:30/);
  assert.match(
      maxPauseText(contactTimes(paused, T0 + 39_500, 30).maxPause), /within 0:01/,
      'never "within 0:00" while time is left');
  t = contactTimes(paused, T0 + 45_000, 30);
  assert.equal(t.maxPause.overdue, true);
  assert.match(maxPauseText(t.maxPause), /^Pause overdue by 0:05: longer than the 0:30 allowed/);
  assert.equal(contactTimes(paused, T0 + 45_000, 0).maxPause, null, 'no limit, no warning');
  // The server said overdue (its clock a little ahead): overdue.
  const told = {...paused, Timing: {...paused.Timing, PauseOverdue: true}};
  assert.equal(contactTimes(told, T0 + 39_900, 30).maxPause.overdue, true);
  // Ended: the call's length, no more.
  const ended = {State: 'ENDED', CreatedAt: iso(0), UpdatedAt: iso(60_000)};
  t = contactTimes(ended, T0 + 99_000, 30);
  assert.equal(t.callMs, 60_000);
  assert.equal(t.recordedMs, null);
});

const meta = (behavior) => ({
  StartTime: iso(1_000),
  EndTime: iso(11_000),
  DurationSeconds: behavior === 'skip' ? 6 : 10,
  PauseBehavior: behavior,
  Pauses: [{
    Start: iso(3_000),
    End: iso(7_000),
    FileOffsetStart: 2,
    FileOffsetEnd: behavior === 'skip' ? 2 : 6,
    PausedSeconds: 4
  }],
  AuditTrail: [
    {Time: iso(500), Operation: 'CREATE', Result: 'OK'},
    {Time: iso(1_000), Operation: 'START', Result: 'OK'},
    {Time: iso(2_990), Operation: 'PAUSE', Result: 'OK'},
    {Time: iso(5_000), Operation: 'PAUSE_OVERDUE', Result: 'OK'},
    {Time: iso(6_995), Operation: 'RESUME', Result: 'OK'},
    {Time: iso(8_000), Operation: 'PAUSE', Result: 'InvalidRequestException'},
    {Time: iso(10_000), Operation: 'STOP', Result: 'OK'},
    {Time: iso(60_000), Operation: 'PLAYBACK', Result: 'OK'},
  ],
});

test('pauses in the file: silence spans, cuts are points', () => {
  assert.deepEqual(
      pauseSpans(meta('silence')).map((s) => [s.start, s.end, s.kind]), [[2, 6, 'silence']]);
  assert.deepEqual(pauseSpans(meta('skip')).map((s) => [s.start, s.end, s.kind]), [[2, 2, 'cut']]);
});

test('audit marks placed by the pauses as anchors', () => {
  for (const [behavior, resume, stop] of [['silence', 6, 9], ['skip', 2, 5]]) {
    const marks =
        auditMarks(meta(behavior)).map((m) => [m.operation, Math.round(m.at * 100) / 100]);
    assert.deepEqual(
        marks,
        [['START', 0], ['PAUSE', 1.99], ['PAUSE_OVERDUE', 2], ['RESUME', resume], ['STOP', stop]],
        behavior);
  }
  assert.equal(fileOffsetOf(meta('silence'), T0 + 70_000), null, 'after the end: not in the file');
});
