import { storedKey } from './api.js';
import { describeError } from './format.js';
import { html, useState } from './html.js';

/** Asks for an API key once per tab; the key is tried on the summary before it is kept. */
export function KeyPrompt({ api, message, onKey }) {
  const [key, setKey] = useState('');
  const [problem, setProblem] = useState(message || '');
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    const candidate = key.trim();
    if (!candidate) return setProblem('Enter an API key.');
    setBusy(true);
    try {
      const summary = await api.summary({ key: candidate });
      storedKey.set(candidate);
      onKey(summary);
    } catch (error) {
      setProblem(
        error.status === 401
          ? 'Wrong API key: the relay answered 401.'
          : `The relay did not accept the request: ${describeError(error)}`,
      );
    } finally {
      setBusy(false);
    }
  }
  return html`<main class="key-prompt">
    <h1>LLM Relay console</h1>
    <p>
      This relay asks for an API key: an admin key (one of <code>RELAY_ADMIN_KEYS</code>) sees every client's jobs and
      manages the clients; a client's key sees that client's jobs only. It is kept for this tab only and sent as the
      <code>X-API-Key</code> header.
    </p>
    <form onSubmit=${submit}>
      <label for="api-key">API key</label>
      <input
        id="api-key"
        name="api-key"
        type="password"
        autocomplete="off"
        value=${key}
        onInput=${(e) => setKey(e.target.value)}
      />
      <button type="submit" disabled=${busy}>Use this key</button>
    </form>
    ${problem && html`<p class="notice error" role="alert">${problem}</p>`}
  </main>`;
}
