// The workspace's text/event-stream parser (web/js/events.js) on the ways a
// stream can be cut into chunks. Run: node --test tests/e2e/
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';

const source = fs.readFileSync(new URL('../../web/js/events.js', import.meta.url), 'utf8');
const {EventStream, EventStreamParser} = await import(`data:text/javascript,${encodeURIComponent(source)}`);

function parse(chunks) {
  const events = [];
  const parser = new EventStreamParser((event) => events.push(event));
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

const stream = 'event: hello\ndata: {}\n\n: ping\n\nevent: contact\ndata: {"ContactId":"c1",\n' +
    'data: "State":"PAUSED"}\n\n';

test('events, comments and multi-line data', () => {
  assert.deepEqual(parse([stream]), [
    {type: 'hello', data: '{}', id: ''},
    {type: 'contact', data: '{"ContactId":"c1",\n"State":"PAUSED"}', id: ''},
  ]);
});

test('any cut into chunks gives the same events', () => {
  const whole = parse([stream]);
  for (let cut = 1; cut < stream.length; ++cut) {
    assert.deepEqual(parse([stream.slice(0, cut), stream.slice(cut)]), whole, `cut at ${cut}`);
  }
  assert.deepEqual(parse([...stream]), whole, 'one character at a time');
});

test('CRLF and CR line ends, also split between CR and LF', () => {
  const crlf = stream.replace(/\n/g, '\r\n');
  assert.deepEqual(parse([crlf]), parse([stream]));
  assert.deepEqual(parse([stream.replace(/\n/g, '\r')]), parse([stream]));
  for (let cut = 1; cut < crlf.length; ++cut) {
    assert.deepEqual(
        parse([crlf.slice(0, cut), crlf.slice(cut)]), parse([stream]), `cut at ${cut}`);
  }
});

test('no event without a blank line; no event without data; default type', () => {
  assert.deepEqual(parse(['data: x\n']), []);
  assert.deepEqual(parse(['event: contact\n\n']), []);
  assert.deepEqual(parse(['data:x\nid: 7\n\n']), [{type: 'message', data: 'x', id: '7'}]);
  assert.deepEqual(parse(['data:  two spaces\n\n'])[0].data, ' two spaces');
});

// A server that answers the stream, says one thing and then nothing (a
// half-open connection): the page must not keep trusting it.
test('a stream silent for staleAfterMs is taken as down and reconnected', async () => {
  let opened = 0;
  const api = {
    fetch: async (method, path, {signal}) => {
      opened += 1;
      let sent = false;
      return {
        body: {
          getReader: () => ({
            read: () => new Promise((resolve, reject) => {
              if (!sent) {
                sent = true;
                resolve({value: new TextEncoder().encode(': ping\n\n'), done: false});
                return;
              }
              const abort = new Error('aborted');
              abort.name = 'AbortError';
              signal.addEventListener('abort', () => reject(abort));
            }),
          }),
        },
      };
    },
  };
  const statuses = [];
  const stream = new EventStream(api, {
    onEvent: () => {},
    onStatus: (status, detail) => statuses.push(detail ? `${status}: ${detail}` : status),
    staleAfterMs: 60,
  });
  stream.start();
  await new Promise((resolve) => setTimeout(resolve, 700));
  stream.stop();
  assert.deepEqual(statuses.slice(0, 4), [
    'connecting', 'live', 'down: No news from the server for a while.', 'connecting',
  ]);
  assert.ok(opened >= 2, `reconnected (${opened})`);
});
