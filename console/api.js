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
  async function call(method, path, { key = getKey() } = {}) {
    const headers = { accept: 'application/json' };
    if (key) headers['x-api-key'] = key;
    const response = await fetch(new URL(path, base), { method, headers, cache: 'no-store', credentials: 'omit' });
    const text = await response.text();
    let body;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = { message: text.slice(0, 200) };
    }
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }
  const job = (id) => `v1/reviews/${encodeURIComponent(id)}`;
  return {
    /** With an explicit key (null: none), to find out whether the relay asks for one and whether a key is right. */
    summary: (options) => call('GET', 'v1/reviews/summary', options),
    list: (params) => call('GET', `v1/reviews?${new URLSearchParams(params)}`),
    job: (id) => call('GET', job(id)),
    attempts: (id) => call('GET', `${job(id)}/attempts`),
    redeliver: (id) => call('POST', `${job(id)}/redeliver`),
    cancel: (id) => call('POST', `${job(id)}/cancel`),
    simulate: (id) => call('POST', `simulate-llm/${encodeURIComponent(id)}`),
  };
}
