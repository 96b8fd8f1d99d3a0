// Who is signed in: the token lives in sessionStorage (gone with the tab, and
// on sign-out), checked against GET /v1/me before the page trusts it.

import {Api, ApiError} from './api.js';

const KEY = 'callrec.session';

export function loadSession() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    return stored && stored.token ? stored : null;
  } catch {
    return null;
  }
}

export function saveSession(session) { sessionStorage.setItem(KEY, JSON.stringify(session)); }

export function clearSession() { sessionStorage.removeItem(KEY); }

// Asks the server who the token belongs to. An agent token must be the agent
// named in the form (when one is named); the admin token sees every agent.
export async function verify(agentId, token) {
  const me = await new Api(token).get('/v1/me');
  if (me.Admin) return {token, agentId: '', admin: true};
  if (!me.AgentId) throw new ApiError(401, 'The server did not name an agent for this token.');
  if (agentId && agentId !== me.AgentId) {
    throw new ApiError(403, `This token belongs to agent “${me.AgentId}”, not “${agentId}”.`);
  }
  return {token, agentId: me.AgentId, admin: false};
}

export function displayName(session) { return session.admin ? 'Administrator' : session.agentId; }
