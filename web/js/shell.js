// What both pages share: the top navigation (who is signed in, the live
// indicator, sign-out), the sign-in form, and the flash messages.

import {ApiError} from './api.js';
import {$, el} from './dom.js';
import {clearSession, displayName, loadSession, saveSession, verify} from './session.js';

// Shows the sign-in form until someone signs in, then calls onSession(session).
// A stored token is checked again first (it may have been revoked).
export async function start(onSession) {
  $('#sign-out').addEventListener('click', signOut);
  const stored = loadSession();
  if (stored) {
    try {
      const session = await verify(stored.agentId, stored.token);
      return enter(session, onSession);
    } catch (error) {
      if (error.status !== 401 && error.status !== 403) {
        showSignIn(onSession, error.message);
        return;
      }
      clearSession();
      showSignIn(onSession, 'Your session has ended. Sign in again.');
      return;
    }
  }
  showSignIn(onSession);
}

function enter(session, onSession) {
  const {ignoredAgentId, ...kept} = session;
  saveSession(kept);
  $('#sign-in').hidden = true;
  $('#who').hidden = false;
  $('#who-name').textContent = displayName(session);
  const supervisorLink = $('#nav-supervisor');
  if (supervisorLink) supervisorLink.hidden = !(session.admin || session.supervisor);
  $('#app').hidden = false;
  if (ignoredAgentId) {
    // Said plainly: the admin token is nobody's agent id.
    flash(`You signed in with the administrator token: you see every agent's contacts, not ` +
              `only those of “${ignoredAgentId}”, and act as the administrator. To work as ` +
              `“${ignoredAgentId}”, sign out and sign in with their agent token.`,
          {tone: 'info', title: 'Signed in as the administrator', sticky: true});
  }
  onSession(kept);
}

export function signOut() {
  clearSession();
  location.reload();
}

function showSignIn(onSession, message) {
  $('#app').hidden = true;
  $('#who').hidden = true;
  const box = $('#sign-in');
  box.hidden = false;
  const form = $('form', box);
  const error = $('.error', box);
  error.textContent = message || '';
  error.hidden = !message;
  const params = new URLSearchParams(location.search);
  if (params.get('agent')) form.elements.agent.value = params.get('agent');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const agentId = form.elements.agent.value.trim();
    const token = form.elements.token.value.trim();
    const submit = $('button[type=submit]', form);
    if (!token) {
      error.textContent = 'Enter the token you were given.';
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    try {
      const session = await verify(agentId, token);
      form.reset();
      enter(session, onSession);
    } catch (failure) {
      error.textContent = failure.status === 401 ? 'That token was not accepted.' : failure.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  form.elements[form.elements.agent.value ? 'token' : 'agent'].focus();
}

export function setLive(status, detail) {
  const node = $('#live');
  if (!node) return;
  node.dataset.status = status;
  node.textContent = status === 'live' ? 'Live' :
      status === 'connecting'          ? 'Connecting…' :
                                         'Reconnecting…';
  node.title = detail || '';
}

// A flash message at the top of the page; errors stay until dismissed.
export function flash(message, {tone = 'error', title, timeout, sticky = false} = {}) {
  const bar = $('#flashbar');
  const item = el(
      'div', {class: `flash ${tone === 'error' ? '' : tone}`, role: 'alert', dataset: {tone}},
      el('div', {class: 'text'}, title ? el('strong', {text: title}) : null,
         el('span', {text: message})),
      el('button', {type: 'button', 'aria-label': 'Dismiss', onclick: () => item.remove()}, '×'));
  bar.append(item);
  while (bar.children.length > 3) bar.firstElementChild.remove();
  if (!sticky && (timeout || tone !== 'error')) setTimeout(() => item.remove(), timeout || 5000);
  return item;
}

export function flashError(error, what) {
  if (error && error.name === 'AbortError') return;
  const status = error instanceof ApiError ? error.status : 0;
  let title = what || 'Something went wrong';
  if (status === 403) title = 'Not allowed';
  if (status === 401) {
    title = 'Signed out';
    setTimeout(signOut, 2500);
  }
  flash(error.message || String(error), {title});
}
