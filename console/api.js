// The relay's public API, as any client calls it. The API key lives in sessionStorage (this tab only) and travels
// as the X-API-Key header: never in a URL or a cookie.

const KEY_STORAGE = 'relay-console-api-key';

/** The relay's base URL from the page's own address (…/console/ → …/), so a path prefix in front is kept. */
export function apiBase(pageHref) {
  return new URL('../', pageHref).href;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export const storedKey = {
  get: () => sessionStorage.getItem(KEY_STORAGE),
  set: (key) => sessionStorage.setItem(KEY_STORAGE, key),
  clear: () => sessionStorage.removeItem(KEY_STORAGE),
};

export function createApi(base, getKey) {
  async function call(method, path, { key = getKey(), body } = {}) {
    const headers = { accept: 'application/json' };
    if (key) headers['x-api-key'] = key;
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(new URL(path, base), init);
    const text = await response.text();
    let answer;
    try {
      answer = text ? JSON.parse(text) : null;
    } catch {
      answer = { message: text.slice(0, 200) };
    }
    if (!response.ok) throw new ApiError(response.status, answer);
    return answer;
  }
  const job = (id) => `v1/reviews/${encodeURIComponent(id)}`;
  const client = (id) => `v1/clients/${encodeURIComponent(id)}`;
  const query = (params = {}) => {
    const text = new URLSearchParams(Object.entries(params).filter(([, value]) => value)).toString();
    return text ? `?${text}` : '';
  };
  return {
    /**
     * The summary, of every client or of `client_id` only; with an explicit key (null: none), to find out whether
     * the relay asks for one and whether a key is right.
     */
    summary: ({ client_id, ...options } = {}) => call('GET', `v1/reviews/summary${query({ client_id })}`, options),
    list: (params) => call('GET', `v1/reviews${query(params)}`),
    job: (id) => call('GET', job(id)),
    attempts: (id) => call('GET', `${job(id)}/attempts`),
    redeliver: (id) => call('POST', `${job(id)}/redeliver`),
    cancel: (id) => call('POST', `${job(id)}/cancel`),
    simulate: (id) => call('POST', `simulate-llm/${encodeURIComponent(id)}`),
    // Client management: admin keys only (a client's key is answered 403 admin_key_required).
    clients: (params) => call('GET', `v1/clients${query(params)}`),
    createClient: (fields) => call('POST', 'v1/clients', { body: fields }),
    updateClient: (id, changes) => call('PATCH', client(id), { body: changes }),
    issueKey: (id) => call('POST', `${client(id)}/api-keys`, { body: {} }),
    revokeKey: (id, keyId) => call('DELETE', `${client(id)}/api-keys/${encodeURIComponent(keyId)}`),
    rotateSecret: (id, fields) => call('POST', `${client(id)}/signing-secret/rotate`, { body: fields }),
  };
}
