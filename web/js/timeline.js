// The contact's event timeline: its audit trail, newest first, kept in step
// with the event stream (entries are told apart by all their fields).

import {clock, el, resultTone} from './dom.js';

export class Timeline {
  constructor(list, empty) {
    this.list = list;
    this.empty = empty;
    this.seen = new Set();
  }

  reset(entries) {
    this.list.replaceChildren();
    this.seen.clear();
    for (const entry of entries || []) this.add(entry, false);
    this.updateEmpty();
  }

  add(entry, fresh = true) {
    if (!entry) return;
    const key =
        [entry.Time, entry.Operation, entry.Principal, entry.Result, entry.Detail].join('|');
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const tone = resultTone(entry.Result);
    const item =
        el('li', {
          class: fresh ? 'fresh' : '',
          dataset: {operation: entry.Operation || '', result: entry.Result || ''}
        },
           el('time', {datetime: entry.Time || '', title: entry.Time || ''}, clock(entry.Time)),
           el('div', {class: 'what'}, el('span', {class: 'op', text: entry.Operation}),
              el('span', {class: `pill ${tone}`, text: entry.Result || ''}),
              el('span', {class: 'who', text: entry.Principal ? `by ${entry.Principal}` : ''})),
           entry.Detail ? el('div', {class: 'detail', text: entry.Detail}) : null);
    // Newest first; entries arrive in order, but place by time to be safe.
    const before = [...this.list.children].find(
        (li) => (li.querySelector('time').getAttribute('datetime') || '') <= (entry.Time || ''));
    this.list.insertBefore(item, before || null);
    this.updateEmpty();
  }

  updateEmpty() { this.empty.hidden = this.list.children.length > 0; }
}
