import { chartGeometry } from './chart.js';
import { useData, LoadError } from './data.js';
import {
  capacityLabel,
  clientLabel,
  formatAge,
  formatTime,
  routeHref,
  serverStateClass,
  serverStateLabel,
  STATUSES,
  statusLabel,
} from './format.js';
import { html } from './html.js';

const REFRESH_MS = 5000;

/**
 * Each client's jobs waiting for their forward and at the LLM (`summary.clients`): every client's with an admin key, or
 * the one the filter names. The relay shares the LLM between the clients with jobs waiting by their weights.
 */
function ClientLoads({ loads, clientNames }) {
  if (loads.length === 0) return html`<p class="empty" data-loads-empty>No client to show.</p>`;
  return html`<div class="table-wrap loads">
    <table class="stack client-loads" aria-labelledby="loads-title">
      <thead>
        <tr>
          <th scope="col">Client</th>
          <th scope="col" class="num">Waiting</th>
          <th scope="col" class="num">At the LLM</th>
        </tr>
      </thead>
      <tbody>
        ${loads.map(
          (load) =>
            html`<tr key=${load.client_id} data-load-client=${load.client_id}>
              <td data-label="Client">${clientLabel(load.client_id, clientNames)}</td>
              <td data-label="Waiting" class="num" data-load="waiting">${load.waiting}</td>
              <td data-label="At the LLM" class="num" data-load="in_flight">${load.in_flight}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/**
 * The LLM servers the relay forwards to (`summary.llm_servers`): each one's state as this replica sees it, its jobs
 * (all replicas') and its capacity. The relay's, not a client's, so every key sees them.
 */
function LlmServers({ servers }) {
  if (!servers || servers.length === 0) return null;
  const single = servers.length === 1 && servers[0].name === 'default';
  return html`<h3 id="servers-title">${single ? 'LLM server' : 'LLM servers'}</h3>
    <div class="table-wrap servers">
      <table class="stack llm-servers" aria-labelledby="servers-title">
        <thead>
          <tr>
            <th scope="col">Server</th>
            <th scope="col">State</th>
            <th scope="col" class="num">Jobs at it</th>
            <th scope="col" class="num">Capacity</th>
          </tr>
        </thead>
        <tbody>
          ${servers.map(
            (server) =>
              html`<tr key=${server.name} data-server=${server.name} class=${serverStateClass(server.state)}>
                <td data-label="Server" class="mono">${server.name}</td>
                <td data-label="State">
                  <span class=${`badge ${serverStateClass(server.state)}`} data-server-state=${server.state}
                    >${serverStateLabel(server.state)}</span
                  >
                </td>
                <td data-label="Jobs at it" class="num" data-server-field="in_flight">${server.in_flight}</td>
                <td data-label="Capacity" class="num" data-server-field="max_in_flight">
                  ${capacityLabel(server.max_in_flight)}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
}

function DeliveryChart({ minutes }) {
  const chart = chartGeometry(minutes, { width: 600, height: 120 });
  const first = minutes[0];
  const last = minutes[minutes.length - 1];
  return html`<figure class="chart">
    <svg
      viewBox=${`0 0 ${chart.width} ${chart.height}`}
      preserveAspectRatio="none"
      role="img"
      aria-label=${`Delivery attempts per minute over the last hour: ${chart.totals.delivered} delivered, ${chart.totals.failed} failed`}
    >
      <line class="axis" x1="0" y1=${chart.height} x2=${chart.width} y2=${chart.height} />
      ${chart.bars.map(
        (bar) =>
          html`<g>
            <title>${`${formatTime(bar.minute)}: ${bar.delivered.count} delivered, ${bar.failed.count} failed`}</title>
            ${bar.delivered.height > 0 && html`<rect class="delivered" x=${bar.x} y=${bar.delivered.y} width=${bar.width} height=${bar.delivered.height} />`}
            ${bar.failed.height > 0 && html`<rect class="failed" x=${bar.x} y=${bar.failed.y} width=${bar.width} height=${bar.failed.height} />`}
          </g>`,
      )}
    </svg>
    <figcaption>
      <span class="legend delivered">delivered <strong data-total="delivered">${chart.totals.delivered}</strong></span>
      <span class="legend failed">failed attempts <strong data-total="failed">${chart.totals.failed}</strong></span>
      <span class="legend">gave up <strong data-total="gave_up">${chart.totals.gaveUp}</strong></span>
      <span class="scale"
        >per minute,
        ${first ? formatTime(first.minute).slice(11, 16) : ''}–${last ? formatTime(last.minute).slice(11, 16) : ''} UTC;
        top of scale ${chart.max}</span
      >
    </figcaption>
  </figure>`;
}

/**
 * The jobs by status, the LLM's queue (and, with an admin key, each client's share of it) and the last hour's
 * deliveries: of every client, or of `clientId` only.
 */
export function Overview({ api, onUnauthorized, initial, clientId, clientNames }) {
  const { data, error } = useData(() => api.summary({ client_id: clientId }), [api, clientId], {
    refreshMs: REFRESH_MS,
    onUnauthorized,
  });
  const summary = data || initial;
  const title = html`<h2 id="overview-title">
    Overview${clientId && html` <span class="muted" data-overview-client=${clientId}>of ${clientLabel(clientId, clientNames)}</span>`}
  </h2>`;
  if (!summary)
    return html`<section aria-labelledby="overview-title">
      ${title} ${error ? html`<${LoadError} error=${error} />` : html`<p class="loading">Loading…</p>`}
    </section>`;
  return html`<section aria-labelledby="overview-title">
    ${title}
    <${LoadError} error=${error} />
    <ul class="cards" aria-label="Jobs by status">
      ${STATUSES.map(
        (status) =>
          html`<li class=${`card status-${status}`}>
            <a href=${routeHref('/jobs', { status, client_id: clientId })}>
              <span class="label">${statusLabel(status)}</span>
              <strong class="count" data-status=${status}>${summary.counts[status]}</strong>
            </a>
          </li>`,
      )}
    </ul>
    <dl class="facts">
      <div>
        <dt>Waiting for the LLM</dt>
        <dd data-fact="llm_waiting">${summary.llm_waiting}</dd>
      </div>
      <div>
        <dt>In flight at the LLM</dt>
        <dd data-fact="llm_in_flight">
          ${summary.llm_in_flight}${summary.llm_max_in_flight ? ` of ${summary.llm_max_in_flight}` : ''}
        </dd>
      </div>
      <div>
        <dt>Oldest pending job</dt>
        <dd data-fact="oldest_pending">
          ${summary.oldest_pending_age_seconds === null ? 'none pending' : formatAge(summary.oldest_pending_age_seconds)}
        </dd>
      </div>
    </dl>
    <${LlmServers} servers=${summary.llm_servers} />
    ${
      clientNames &&
      summary.clients &&
      html`<h3 id="loads-title">Waiting / At the LLM, by client</h3>
        <${ClientLoads} loads=${summary.clients} clientNames=${clientNames} />`
    }
    <h3>Deliveries, last hour</h3>
    <${DeliveryChart} minutes=${summary.deliveries_per_minute} />
    ${summary.partial_before && html`<p class="notice">Busy hour: minutes before ${formatTime(summary.partial_before)} are undercounted.</p>`}
    <p class="updated">Updated ${formatTime(summary.generated_at)}; refreshes every ${REFRESH_MS / 1000} s.</p>
  </section>`;
}
