// Renders the guide's Cards view (the AWS-managed `cards` view of a ShowView
// block): Heading, SubHeading, AttributeBar, each card's Summary and Detail with
// its Sections and Actions, and the Back and NoMatchFound buttons. Section
// TemplateStrings arrive sanitised by the server and are inserted as HTML;
// every other value is inserted as text. The view data is the flow's: any key
// may be missing or of another type (a "$." reference can resolve to
// anything), and that must never stop the page.

import {copyText, el} from './dom.js';

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

// A value shown as text: strings, numbers and booleans; nothing for the rest.
function text(value) {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

// options: onAction(name) for a card action, onResult(result) for Back and
// NoMatchFound, actionState(name) -> {enabled, busy, title}; unknown: {label,
// text} while the server has not confirmed the state: each card then shows that
// instead of its descriptions and sections (the flow's attributes as last read,
// which may no longer be true).
export function renderCardsView(root, guide, options) {
  root.replaceChildren();
  const view = guide && guide.View;
  if (!view) {
    root.append(
        el('p', {class: 'guide-finished', 'data-testid': 'guide-finished'},
           guide && guide.Finished ? 'The guide has finished for this contact.' :
                                     'The guide has nothing to show yet.'));
    return;
  }
  const data = isObject(view.ViewData) ? view.ViewData : {};
  const wrap =
      el('div', {'data-testid': 'cards-view', dataset: {view: text(view.ViewResource)}});
  if (text(data.Heading)) wrap.append(el('h3', {class: 'view-heading', text: text(data.Heading)}));
  if (text(data.SubHeading)) {
    wrap.append(el('p', {class: 'view-subheading', text: text(data.SubHeading)}));
  }
  if (Array.isArray(data.AttributeBar)) {
    const items = data.AttributeBar.filter(isObject);
    if (items.length) wrap.append(attributeBar(items));
  }
  const cards = Array.isArray(data.Cards) ? data.Cards.filter(isObject) : [];
  cards.forEach((card, index) => wrap.append(guideCard(card, index, cards.length, options)));
  if (Array.isArray(data.Actions) && data.Actions.length) {
    wrap.append(actionButtons(data.Actions, options));
  }
  const results = resultButtons(data, options);
  if (results) wrap.append(results);
  if (wrap.children.length === 0) wrap.append(el('p', {class: 'guide-finished'}, 'Empty view.'));
  root.append(el('div', {class: 'cards-view'}, wrap));
}

// Label and value as text. A LinkType/ResourceId link (a Connect case, say)
// points at nothing callrec has: the value is shown, the link kept as data.
function attributeBar(items) {
  const bar = el('dl', {class: 'attribute-bar'});
  for (const item of items) {
    const value = text(item.Value);
    const label = text(item.Label);
    const dd = el('dd', {}, el('span', {text: value}));
    if (text(item.LinkType)) {
      dd.dataset.linkType = text(item.LinkType);
      if (text(item.ResourceId)) dd.dataset.resourceId = text(item.ResourceId);
    }
    if ((item.Copyable === true || item.Copyable === 'true') && value) {  // flows often write strings
      const button = el('button', {type: 'button', class: 'copy', title: `Copy ${label}`}, 'Copy');
      button.addEventListener('click', () => copyText(value, button));
      dd.append(button);
    }
    bar.append(el('div', {}, el('dt', {text: label}), dd));
  }
  return bar;
}

function guideCard(card, index, count, options) {
  const summary = isObject(card.Summary) ? card.Summary : {};
  const detail = isObject(card.Detail) ? card.Detail : null;
  const node =
      el('article', {class: 'guide-card', dataset: {card: text(summary.Id) || String(index)}});
  const heading = text(summary.Heading);
  const initial = (heading || '?').trim().charAt(0).toUpperCase();
  const unknown = options.unknown;
  const description = unknown ? 'Reconnecting…' : text(summary.Description);
  node.append(
      el('div', {class: 'summary'}, el('span', {class: 'icon', 'aria-hidden': 'true'}, initial),
         el('div', {}, el('h4', {text: heading}),
            description ? el('p', {text: description}) : null)));
  if (detail) {
    const body = el('div', {class: 'detail'});
    if (text(detail.Heading) && text(detail.Heading) !== heading) {
      body.append(el('h4', {text: text(detail.Heading)}));
    }
    if (!unknown && text(detail.Description) &&
        text(detail.Description) !== text(summary.Description)) {
      body.append(el('p', {text: text(detail.Description)}));
    }
    const sections = Array.isArray(detail.Sections) && !unknown ? detail.Sections : [];
    if (unknown) {
      body.append(el(
          'div', {class: 'section', 'data-testid': 'guide-section'},
          el('p', {class: 'guide-unknown', 'data-testid': 'guide-unknown', role: 'status'},
             el('strong', {text: `${unknown.label} ⬤`}), ` ${unknown.text}`)));
    }
    for (const section of sections) {
      const html =
          isObject(section) && typeof section.TemplateString === 'string' ? section.TemplateString : '';
      const part = el('div', {class: 'section', 'data-testid': 'guide-section'});
      part.innerHTML = html;  // sanitised by the server (see web/README.md)
      body.append(part);
    }
    if (Array.isArray(detail.Actions) && detail.Actions.length) {
      body.append(actionButtons(detail.Actions, options));
    }
    // One card: its detail is open; several: each opens on a click of its summary.
    if (count > 1) {
      body.hidden = true;
      node.querySelector('.summary').addEventListener('click', () => (body.hidden = !body.hidden));
      node.querySelector('.summary').style.cursor = 'pointer';
    }
    node.append(body);
  }
  return node;
}

function actionButtons(actions, options) {
  const row = el('div', {class: 'btn-row actions'});
  for (const action of actions) {
    const name = text(action) || (isObject(action) ? text(action.Label) || text(action.Name) : '');
    if (!name) continue;
    const state = options.actionState(name);
    const button = el('button', {
      type: 'button',
      class: 'btn small',
      disabled: !state.enabled,
      title: state.title,
      dataset: {action: name},
    });
    if (state.busy) button.append(el('span', {class: 'busy', 'aria-hidden': 'true'}));
    button.append(name);
    button.addEventListener('click', () => options.onAction(name));
    row.append(button);
  }
  return row;
}

// The view's own results besides ActionSelected: the flow's ShowView routes
// them by its Conditions ("Back", "NoMatchFound").
function resultButtons(data, options) {
  const shown = [['Back', 'Back'], ['NoMatchFound', 'None of these']].filter(
      ([key]) => data[key] !== undefined && data[key] !== null && data[key] !== false);
  if (!shown.length || !options.onResult) return null;
  const row = el('div', {class: 'btn-row view-results'});
  for (const [result, fallback] of shown) {
    const label = (isObject(data[result]) && text(data[result].Label)) || fallback;
    const state = options.resultState ? options.resultState(result) : {enabled: true};
    const button = el('button', {
      type: 'button',
      class: 'btn small link',
      disabled: !state.enabled,
      dataset: {result},
    }, label);
    button.addEventListener('click', () => options.onResult(result));
    row.append(button);
  }
  return row;
}
