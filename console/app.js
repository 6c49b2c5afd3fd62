import { apiBase, createApi, storedKey } from './api.js';
import { allClients, ClientFilter } from './client-filter.js';
import { ClientsPage } from './clients.js';
import { describeError, isJobId, parseRoute, routeHref } from './format.js';
import { html, render, useCallback, useEffect, useState } from './html.js';
import { FailedDeliveries } from './failed.js';
import { FindJobs } from './jobs.js';
import { JobPage } from './job.js';
import { KeyPrompt } from './key-prompt.js';
import { Overview } from './overview.js';

const api = createApi(apiBase(window.location.href), () => storedKey.get());

function useRoute() {
  const [route, setRoute] = useState(parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/**
 * What an accepted key may do: an admin key (RELAY_ADMIN_KEYS) is answered the clients' list, a client's key 403
 * `admin_key_required` (it sees its own jobs only, and manages nothing).
 */
async function keyedAccess(summary) {
  try {
    return { state: 'keyed', role: 'admin', summary, clients: await allClients(api) };
  } catch (error) {
    if (error.status === 403 && error.body && error.body.code === 'admin_key_required')
      return { state: 'keyed', role: 'client', summary, clients: [] };
    throw error;
  }
}

/**
 * Finds out once whether the relay asks for a key: a summary without one answers 200 on an open relay and 401 on a
 * closed one. On a closed relay the key kept for this tab (if any) is tried; a refused one is dropped.
 */
async function probeAccess() {
  try {
    const summary = await api.summary({ key: null });
    storedKey.clear();
    return { state: 'open', role: 'open', summary, clients: [] };
  } catch (error) {
    if (error.status !== 401) return { state: 'error', message: describeError(error) };
  }
  const key = storedKey.get();
  if (!key) return { state: 'locked' };
  try {
    return await keyedAccess(await api.summary());
  } catch (error) {
    storedKey.clear();
    return error.status === 401
      ? { state: 'locked', message: 'The API key kept for this tab was refused (401).' }
      : { state: 'error', message: describeError(error) };
  }
}

/** The job id in a `#/job/…` address, or null when it is not one (a hand-edited or truncated link). */
function jobIdOf(encoded) {
  try {
    const id = decodeURIComponent(encoded);
    return isJobId(id) ? id : null;
  } catch {
    return null;
  }
}

const ROLE_LABELS = { admin: 'admin key', client: "a client's key" };

/** The pages; the client chosen in the filter goes with the links to the other filtered pages. */
function Nav({ path, access, clientId, onForget }) {
  const link = (to, label, active) =>
    html`<a
      href=${routeHref(to, to === '/clients' ? {} : { client_id: clientId })}
      aria-current=${active ? 'page' : undefined}
      >${label}</a
    >`;
  return html`<header class="top">
    <h1><a href="#/">LLM Relay</a></h1>
    <nav aria-label="Console">
      ${link('/', 'Overview', path === '/')} ${link('/failed', 'Failed deliveries', path === '/failed')}
      ${link('/jobs', 'Find jobs', path === '/jobs' || path.startsWith('/job/'))}
      ${access.role === 'admin' && link('/clients', 'Clients', path === '/clients')}
    </nav>
    ${access.state === 'keyed' && html`<span class="role" data-role=${access.role}>${ROLE_LABELS[access.role]}</span>`}
    ${access.state === 'keyed' && html`<button type="button" class="link" onClick=${onForget}>Forget key</button>`}
  </header>`;
}

const FILTERED = ['/', '/jobs', '/failed'];

function App() {
  const route = useRoute();
  const [access, setAccess] = useState({ state: 'probing' });
  const probe = useCallback(() => {
    setAccess({ state: 'probing' });
    probeAccess().then(setAccess);
  }, []);
  useEffect(probe, []);
  // Any call answered 401 later (a key removed or revoked meanwhile) asks for a key again.
  const onUnauthorized = useCallback(() => {
    storedKey.clear();
    setAccess({ state: 'locked', message: 'The relay refused the API key (401). Enter a valid key.' });
  }, []);
  const onKey = (summary) => {
    setAccess({ state: 'probing' });
    keyedAccess(summary).then(setAccess, (error) => setAccess({ state: 'error', message: describeError(error) }));
  };
  // After a change on the Clients page, the filter's list follows (a new client, a new name).
  const reloadClients = useCallback(async () => {
    const clients = await allClients(api);
    setAccess((old) => (old.role === 'admin' ? { ...old, clients } : old));
  }, []);
  const onForget = () => {
    storedKey.clear();
    setAccess({ state: 'locked' });
  };

  if (access.state === 'probing') return html`<p class="loading">Connecting to the relay…</p>`;
  if (access.state === 'error') {
    // A draining replica or a database outage answers 503 for a while: the operator tries again from here.
    return html`<div class="notice error" role="alert">
      <p>The relay did not answer as expected: ${access.message}</p>
      <button type="button" onClick=${probe}>Try again</button>
    </div>`;
  }
  if (access.state === 'locked') return html`<${KeyPrompt} api=${api} message=${access.message} onKey=${onKey} />`;

  const { path } = route;
  const admin = access.role === 'admin';
  // Only an admin key filters by client: a client's key sees its own jobs (a link naming a client is read without it).
  const { client_id: named, ...rest } = route.params;
  const params = admin ? route.params : rest;
  const clientId = admin ? named || '' : '';
  const clientNames = admin ? new Map(access.clients.map((client) => [client.client_id, client.name])) : null;
  const context = { api, simulationEnabled: access.summary.simulation_enabled, onUnauthorized, clientId, clientNames };
  let page;
  if (path === '/failed') page = html`<${FailedDeliveries} key=${clientId} ...${context} />`;
  else if (path === '/jobs') page = html`<${FindJobs} ...${context} params=${params} />`;
  else if (path === '/clients')
    page = html`<${ClientsPage}
      api=${api}
      role=${access.role}
      clients=${access.clients}
      reloadClients=${reloadClients}
      onUnauthorized=${onUnauthorized}
    />`;
  else if (path.startsWith('/job/')) {
    const jobId = jobIdOf(path.slice(5));
    // Keyed by job: an action still running for the previous job updates that page's state, never this one's.
    page = jobId
      ? html`<${JobPage} key=${jobId} ...${context} jobId=${jobId} />`
      : html`<p class="notice error" role="alert">Not a job id.</p>`;
  } else page = html`<${Overview} key=${clientId} ...${context} initial=${clientId ? null : access.summary} />`;
  return html`<${Nav} path=${path} access=${access} clientId=${clientId} onForget=${onForget} />
    ${
      access.state === 'open' &&
      html`<p class="banner" role="note">
        No API key required: this relay is open (no API key of any kind is configured: neither RELAY_API_KEYS nor
        RELAY_ADMIN_KEYS).
      </p>`
    }
    <main>
      ${admin && FILTERED.includes(path) && html`<${ClientFilter} clients=${access.clients} path=${path} params=${params} />`}
      ${page}
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
