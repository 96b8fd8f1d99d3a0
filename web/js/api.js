// The callrec /v1 API as the pages use it: every request carries the bearer
// token; an error answer becomes an ApiError with the server's message.

export class ApiError extends Error {
  constructor(status, message, type) {
    super(message);
    this.status = status;
    this.type = type || '';
  }
}

export class Api {
  constructor(token) { this.token = token; }

  headers(extra = {}) { return {Authorization: `Bearer ${this.token}`, ...extra}; }

  async fetch(method, path, {body, signal, headers} = {}) {
    const init = {method, headers: this.headers(headers), signal, cache: 'no-store'};
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      throw new ApiError(0, 'The server cannot be reached.', 'NetworkError');
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  async json(method, path, options) {
    const response = await this.fetch(method, path, options);
    const text = await response.text();
    return text ? JSON.parse(text) : {};
  }

  get(path, options) { return this.json('GET', path, options); }

  post(path, body, options) { return this.json('POST', path, {...options, body}); }

  async blob(path, options) {
    const response = await this.fetch('GET', path, options);
    return response.blob();
  }
}

async function errorOf(response) {
  const type = (response.headers.get('x-amzn-ErrorType') || '').split(':')[0];
  let message = '';
  try {
    const text = await response.text();
    try {
      const body = JSON.parse(text);
      message = body.message || body.Message || '';
    } catch {
      message = text.slice(0, 300);
    }
  } catch {
    // no body
  }
  if (!message) message = defaultMessage(response.status);
  return new ApiError(response.status, message, type);
}

function defaultMessage(status) {
  switch (status) {
    case 401:
      return 'The token was not accepted. Sign in again.';
    case 403:
      return 'You may not see or act on this contact.';
    case 404:
      return 'Not found.';
    default:
      return `The server answered ${status}.`;
  }
}

// Path segment for an id (contact ids may hold any character).
export function seg(id) { return encodeURIComponent(id); }
