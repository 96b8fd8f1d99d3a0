// Server push: GET /v1/events read with fetch() and a streaming body reader
// (EventSource cannot send the Authorization header), parsed as
// text/event-stream, reconnected with back-off when the stream drops.

// Incremental text/event-stream parser (the WHATWG rules that matter here:
// lines end in LF, CR or CRLF; a blank line dispatches; `:` starts a comment;
// `data` lines are joined with LF; one leading space after the colon is dropped).
export class EventStreamParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = '';
    this.afterCR = false;
    this.reset();
  }

  reset() {
    this.type = '';
    this.data = [];
    this.id = '';
  }

  push(text) {
    if (!text) return;
    // A CR that ended the previous chunk may have been the first half of CRLF.
    if (this.afterCR && text[0] === '\n') text = text.slice(1);
    this.afterCR = false;
    this.buffer += text;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      const line = this.buffer.slice(0, match.index);
      this.afterCR = match[0] === '\r' && match.index === this.buffer.length - 1;
      this.buffer = this.buffer.slice(match.index + match[0].length);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      if (this.data.length) {
        this.onEvent({type: this.type || 'message', data: this.data.join('\n'), id: this.id});
      }
      this.reset();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event')
      this.type = value;
    else if (field === 'data')
      this.data.push(value);
    else if (field === 'id')
      this.id = value;
  }
}

// One subscription. onEvent({type, data}) for every event; onStatus('connecting'
// | 'live' | 'down', detail) as the connection changes; onOpen() after each
// (re)connection, so the page can fetch what it missed while disconnected.
// The server sends a comment every 15 s: a stream that has said nothing for
// staleAfterMs is taken as dead (a half-open connection never errors) and is
// reconnected.
export class EventStream {
  constructor(api, {
    onEvent,
    onStatus = () => {},
    onOpen = () => {},
    onUnauthorized = () => {},
    staleAfterMs = 35000,
  }) {
    this.api = api;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.onOpen = onOpen;
    this.onUnauthorized = onUnauthorized;
    this.staleAfterMs = staleAfterMs;
    this.controller = null;
    this.stopped = true;
    this.delay = 500;
    this.stale = false;
    this.watchdog = 0;
  }

  start() {
    this.stopped = false;
    this.run();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.watchdog);
    if (this.controller) this.controller.abort();
  }

  // Called on every read from the stream: it is alive for staleAfterMs more.
  alive() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      this.stale = true;
      if (this.controller) this.controller.abort();
    }, this.staleAfterMs);
  }

  async run() {
    while (!this.stopped) {
      this.controller = new AbortController();
      this.onStatus('connecting');
      try {
        const response = await this.api.fetch('GET', '/v1/events', {
          signal: this.controller.signal,
          headers: {Accept: 'text/event-stream'},
        });
        this.delay = 500;
        this.stale = false;
        this.alive();
        this.onStatus('live');
        this.onOpen();
        await this.read(response.body.getReader());
        clearTimeout(this.watchdog);
        if (!this.stopped) this.onStatus('down', 'The event stream ended.');
      } catch (error) {
        clearTimeout(this.watchdog);
        if (this.stopped) return;
        if (error.status === 401) {
          this.onUnauthorized(error);
          return;
        }
        this.onStatus('down', this.stale ? 'No news from the server for a while.' : error.message);
      }
      if (this.stopped) return;
      await sleep(this.delay);
      this.delay = Math.min(this.delay * 2, 8000);
    }
  }

  async read(reader) {
    const decoder = new TextDecoder();
    const parser = new EventStreamParser((event) => this.onEvent(event));
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      this.alive();
      parser.push(decoder.decode(value, {stream: true}));
    }
  }
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }
