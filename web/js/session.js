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
// named in the form (when one is named); the admin token sees every agent,
// whatever agent id was typed (ignoredAgentId: the page says so). Also what
// the timers need: --max-pause, and how far this browser's clock is from the
// server's (clockOffsetMs: add it to Date.now()).
export async function verify(agentId, token) {
  const sent = Date.now();
  const me = await new Api(token).get('/v1/me');
  const received = Date.now();
  const server = Date.parse(me.ServerTime || '');
  const policy = {
    maxPauseSeconds: Number(me.MaxPauseSeconds) > 0 ? Number(me.MaxPauseSeconds) : 0,
    clockOffsetMs: Number.isNaN(server) ? 0 : Math.round(server - (sent + received) / 2),
  };
  if (me.Admin) {
    return {
      token,
      agentId: '',
      admin: true,
      supervisor: false,
      ignoredAgentId: agentId || '',
      ...policy
    };
  }
  if (!me.AgentId) throw new ApiError(401, 'The server did not name an agent for this token.');
  if (agentId && agentId !== me.AgentId) {
    throw new ApiError(403, `This token belongs to agent “${me.AgentId}”, not “${agentId}”.`);
  }
  return {token, agentId: me.AgentId, admin: false, supervisor: Boolean(me.Supervisor), ...policy};
}

export function displayName(session) {
  if (session.admin) return 'Administrator (every agent)';
  return session.supervisor ? `${session.agentId} (supervisor)` : session.agentId;
}

// The server's time now, as this browser best knows it (ms since the epoch).
export function serverNow(session) {
  return Date.now() + ((session && session.clockOffsetMs) || 0);
}
