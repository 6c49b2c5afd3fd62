import { routeHref } from './format.js';
import { html } from './html.js';

/** Every client, all pages of GET /v1/clients (admin keys only), oldest first. */
export async function allClients(api) {
  const items = [];
  let cursor = '';
  // A bound, so a relay answering the same cursor again cannot keep the console busy for ever.
  for (let page = 0; page < 100; page++) {
    const answer = await api.clients({ limit: 100, cursor });
    items.push(...answer.items);
    if (!answer.next_cursor) break;
    cursor = answer.next_cursor;
  }
  return items;
}

/**
 * Shows one client's jobs or every client's (admin keys): the choice lives in the address (`client_id=…`), so it
 * survives a reload and goes with a link; choosing starts the list again from its first page.
 */
export function ClientFilter({ clients, path, params }) {
  const current = params.client_id || '';
  const known = clients.some((client) => client.client_id === current);
  const choose = (event) => {
    window.location.hash = routeHref(path, { ...params, client_id: event.target.value, cursor: '' });
  };
  return html`<div class="client-filter">
    <label for="client-filter">Client</label>
    <select id="client-filter" value=${current} onChange=${choose}>
      <option value="">All clients</option>
      ${clients.map(
        (client) =>
          html`<option value=${client.client_id}>
            ${client.name} (${client.client_id})${client.disabled ? ', disabled' : ''}
          </option>`,
      )}
      ${current && !known && html`<option value=${current}>${current} (not a known client)</option>`}
    </select>
  </div>`;
}
