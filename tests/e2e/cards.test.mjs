// The guide's Cards view renderer (web/js/cards.js) on view data as the
// Connect console writes it (AttributeBar links, SubHeading, Back,
// NoMatchFound) and on view data of the wrong shape, in a minimal DOM: text is
// text, only Section TemplateStrings become HTML, nothing throws.
// Run: node --test tests/e2e/
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';

// Just enough DOM for cards.js and dom.js's el().
class Node {}
class Text extends Node {
  constructor(data) {
    super();
    this.data = String(data);
  }
  get textContent() { return this.data; }
}
class Element extends Node {
  constructor(tag) {
    super();
    this.tagName = tag.toUpperCase();
    this.childNodes = [];
    this.attributes = {};
    this.dataset = {};
    this.style = {};
    this.listeners = {};
    this.className = '';
    this.hidden = false;
    this.html = null;  // what innerHTML was set to
  }
  get children() { return this.childNodes.filter((n) => n instanceof Element); }
  setAttribute(name, value) { this.attributes[name] = String(value); }
  addEventListener(type, f) { (this.listeners[type] ||= []).push(f); }
  click() { for (const f of this.listeners.click || []) f(); }
  append(...nodes) {
    for (const n of nodes) this.childNodes.push(n instanceof Node ? n : new Text(n));
  }
  replaceChildren(...nodes) {
    this.childNodes = [];
    this.append(...nodes);
  }
  set textContent(value) { this.childNodes = [new Text(value)]; }
  get textContent() {
    return this.html !== null ? '' : this.childNodes.map((n) => n.textContent).join('');
  }
  set innerHTML(value) {
    this.childNodes = [];
    this.html = value;
  }
  all() { return [this, ...this.children.flatMap((c) => c.all())]; }
  matches(selector) {
    if (selector.startsWith('.')) return this.className.split(' ').includes(selector.slice(1));
    return this.tagName === selector.toUpperCase();
  }
  querySelector(selector) { return this.all().slice(1).find((e) => e.matches(selector)) || null; }
  querySelectorAll(selector) { return this.all().slice(1).filter((e) => e.matches(selector)); }
}
globalThis.Node = Node;
globalThis.document = {
  createElement: (tag) => new Element(tag),
  createTextNode: (data) => new Text(data),
};

// web/js is served as ES modules without a package.json: load them as data: URLs.
const read = (name) => fs.readFileSync(new URL(`../../web/js/${name}`, import.meta.url), 'utf8');
const dom = `data:text/javascript,${encodeURIComponent(read('dom.js'))}`;
const cardsSource = read('cards.js').replace(`from './dom.js'`, `from "${dom}"`);
const {renderCardsView} = await import(`data:text/javascript,${encodeURIComponent(cardsSource)}`);

function render(viewData, calls = [], extra = {}) {
  const root = new Element('div');
  renderCardsView(root, {View: {ViewResource: 'cards', ViewData: viewData}}, {
    onAction: (name) => calls.push(['action', name]),
    onResult: (result) => calls.push(['result', result]),
    actionState: () => ({enabled: true, busy: false, title: ''}),
    ...extra,
  });
  return root;
}

const hostile = '<img src=x onerror="alert(1)">';

test('a console export: SubHeading, AttributeBar links, Back and NoMatchFound', () => {
  const calls = [];
  const root = render({
    Heading: 'Manage Call Recording',
    SubHeading: 'Pause before card details',
    AttributeBar: [
      {Label: 'Contact', Value: 'c-1', LinkType: 'case', ResourceId: 'c-1', Copyable: true},
      {Label: 'Initial contact', Value: 'c-0'},
      {Label: 'Queue', Value: 'Sales', Copyable: 'true'},
    ],
    Back: {Label: 'Back'},
    NoMatchFound: {Label: 'None of these'},
    Cards: [{
      Summary: {Id: 'rec', Heading: 'Call recording', Status: 'OFF', Description: 'Not started.'},
      Detail: {
        Heading: 'Manage',
        Sections: [{TemplateString: '<p>NOT RECORDING</p>'}],
        Actions: ['Start Recording', 'Stop Recording'],
      },
    }],
  }, calls);
  assert.equal(root.querySelector('h3').textContent, 'Manage Call Recording');
  assert.equal(root.querySelector('.view-subheading').textContent, 'Pause before card details');
  const values = root.querySelectorAll('dd');
  assert.equal(values.length, 3);
  assert.deepEqual(values.map((v) => v.querySelectorAll('button').length), [1, 0, 1]);
  assert.equal(values[0].dataset.linkType, 'case');
  assert.equal(values[0].dataset.resourceId, 'c-1');
  assert.equal(values[0].querySelector('span').textContent, 'c-1');
  assert.equal(root.querySelector('.section').html, '<p>NOT RECORDING</p>');
  const buttons = root.querySelectorAll('button');
  const byText = Object.fromEntries(buttons.map((b) => [b.textContent, b]));
  byText['Start Recording'].click();
  byText['Back'].click();
  byText['None of these'].click();
  assert.deepEqual(calls, [['action', 'Start Recording'], ['result', 'Back'],
                           ['result', 'NoMatchFound']]);
});

test('every value but a TemplateString is text, never markup', () => {
  const root = render({
    Heading: hostile,
    SubHeading: hostile,
    AttributeBar: [{Label: hostile, Value: hostile, LinkType: hostile, ResourceId: hostile}],
    Back: {Label: hostile},
    Cards: [{Summary: {Heading: hostile, Description: hostile},
             Detail: {Heading: 'x' + hostile, Actions: [hostile]}}],
  });
  const sections = root.querySelectorAll('.section');
  assert.equal(sections.length, 0);
  for (const node of root.all()) {
    assert.equal(node.html, null, `${node.tagName} got HTML`);
    assert.ok(['DIV', 'H3', 'H4', 'P', 'DL', 'DT', 'DD', 'SPAN', 'ARTICLE', 'BUTTON'].includes(
        node.tagName), node.tagName);
  }
  assert.ok(root.textContent.includes(hostile));
});

test('view data of the wrong shape renders what it can and never throws', () => {
  for (const viewData of [
    null, 'cards', [], {Cards: 'not a list'}, {Cards: [null, 7, 'x']},
    {Cards: [{Summary: 'x', Detail: 'y'}]},
    {Cards: [{Summary: {Heading: 42, Id: {}}, Detail: {Sections: {TemplateString: '<b>x</b>'},
              Actions: [null, {Label: 'Go'}, 5]}}]},
    {AttributeBar: [null, 'x', {Label: {}, Value: {a: 1}, Copyable: 'yes'}]},
    {AttributeBar: {Label: 'x'}}, {Heading: {a: 1}, SubHeading: ['x']},
    {Back: true, NoMatchFound: 'None'}, {Back: null, NoMatchFound: false},
  ]) {
    assert.doesNotThrow(() => render(viewData), JSON.stringify(viewData));
  }
  const root = render({Cards: [{Summary: {Heading: 42}, Detail: {Actions: [null, {Label: 'Go'}]}}]});
  assert.equal(root.querySelector('h4').textContent, '42');
  assert.deepEqual(root.querySelectorAll('button').map((b) => b.textContent), ['Go']);
  const results = render({Back: true, NoMatchFound: 'None'}).querySelectorAll('button');
  assert.deepEqual(results.map((b) => b.textContent), ['Back', 'None of these']);
  assert.equal(render({Back: null, NoMatchFound: false}).querySelectorAll('button').length, 0);
});

test('while the state is unconfirmed each card says STATUS UNKNOWN instead of its sections', () => {
  const viewData = {
    Heading: 'Manage Call Recording',
    Cards: [{
      Summary: {Id: 'rec', Heading: 'Call recording', Description: 'PAUSE succeeded.'},
      Detail: {
        Description: 'PAUSE succeeded.',
        Sections: [{TemplateString: '<p style="color:#037f0c">RECORDING ⬤</p>'}],
        Actions: ['Pause recording'],
      },
    }],
  };
  const unknown = {label: 'STATUS UNKNOWN', text: 'Reconnecting to the server.'};
  const root = render(viewData, [], {unknown});
  const sections = root.querySelectorAll('.section');
  assert.equal(sections.length, 1);
  assert.equal(sections[0].html, null, 'no HTML of the last read');
  assert.equal(sections[0].textContent, 'STATUS UNKNOWN ⬤ Reconnecting to the server.');
  assert.ok(!root.textContent.includes('RECORDING ⬤'));
  assert.ok(!root.textContent.includes('PAUSE succeeded'));
  assert.ok(root.textContent.includes('Reconnecting…'));
  assert.deepEqual(root.querySelectorAll('button').map((b) => b.textContent), ['Pause recording']);
  // Confirmed again: the flow's sections as they are.
  assert.equal(render(viewData).querySelector('.section').html,
               '<p style="color:#037f0c">RECORDING ⬤</p>');
});
