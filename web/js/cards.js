// Renders the guide's Cards view (the AWS-managed `cards` view of a ShowView
// block): Heading, AttributeBar, and each card's Summary and Detail with its
// Sections and Actions. Section TemplateStrings arrive sanitised by the server
// and are inserted as HTML; every other value is inserted as text.

import {copyText, el} from './dom.js';

// options: onAction(name), actionState(name) -> {enabled, busy, title}
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
  const data = view.ViewData || {};
  const wrap = el('div', {'data-testid': 'cards-view', dataset: {view: view.ViewResource || ''}});
  if (data.Heading) wrap.append(el('h3', {class: 'view-heading', text: data.Heading}));
  if (Array.isArray(data.AttributeBar) && data.AttributeBar.length) {
    wrap.append(attributeBar(data.AttributeBar));
  }
  const cards = Array.isArray(data.Cards) ? data.Cards : [];
  cards.forEach((card, index) => wrap.append(guideCard(card, index, cards.length, options)));
  if (Array.isArray(data.Actions) && data.Actions.length) {
    wrap.append(actionButtons(data.Actions, options));
  }
  if (wrap.children.length === 0) wrap.append(el('p', {class: 'guide-finished'}, 'Empty view.'));
  root.append(el('div', {class: 'cards-view'}, wrap));
}

function attributeBar(items) {
  const bar = el('dl', {class: 'attribute-bar'});
  for (const item of items) {
    const value = item.Value === undefined || item.Value === null ? '' : String(item.Value);
    const dd = el('dd', {}, el('span', {text: value}));
    if (item.Copyable && value) {
      const button =
          el('button', {type: 'button', class: 'copy', title: `Copy ${item.Label}`}, 'Copy');
      button.addEventListener('click', () => copyText(value, button));
      dd.append(button);
    }
    bar.append(el('div', {}, el('dt', {text: item.Label || ''}), dd));
  }
  return bar;
}

function guideCard(card, index, count, options) {
  const summary = card.Summary || {};
  const detail = card.Detail || null;
  const node = el('article', {class: 'guide-card', dataset: {card: summary.Id || String(index)}});
  const initial = (summary.Heading || '?').trim().charAt(0).toUpperCase();
  node.append(
      el('div', {class: 'summary'}, el('span', {class: 'icon', 'aria-hidden': 'true'}, initial),
         el('div', {}, el('h4', {text: summary.Heading || ''}),
            summary.Description ? el('p', {text: summary.Description}) : null)));
  if (detail) {
    const body = el('div', {class: 'detail'});
    if (detail.Heading && detail.Heading !== summary.Heading) {
      body.append(el('h4', {text: detail.Heading}));
    }
    if (detail.Description && detail.Description !== summary.Description) {
      body.append(el('p', {text: detail.Description}));
    }
    for (const section of detail.Sections || []) {
      const html =
          section && typeof section.TemplateString === 'string' ? section.TemplateString : '';
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
    const name = typeof action === 'string' ? action : action && (action.Label || action.Name);
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
