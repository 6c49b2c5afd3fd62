import { apiBase, createApi, storedKey } from './api.js';
import { describeError, isJobId, parseRoute } from './format.js';
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
 * Finds out once whether the relay asks for a key: a summary without one answers 200 on an open relay and 401 on a
 * closed one. On a closed relay the key kept for this tab (if any) is tried; a refused one is dropped.
 */
async function probeAccess() {
  try {
    const summary = await api.summary({ key: null });
    storedKey.clear();
    return { state: 'open', summary };
  } catch (error) {
    if (error.status !== 401) return { state: 'error', message: describeError(error) };
  }
  const key = storedKey.get();
  if (!key) return { state: 'locked' };
  try {
    return { state: 'keyed', summary: await api.summary() };
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

function Nav({ path, access, onForget }) {
  const link = (href, label, active) => html`<a href=${href} aria-current=${active ? 'page' : undefined}>${label}</a>`;
  return html`<header class="top">
    <h1><a href="#/">LLM Relay</a></h1>
    <nav aria-label="Console">
      ${link('#/', 'Overview', path === '/')} ${link('#/failed', 'Failed deliveries', path === '/failed')}
      ${link('#/jobs', 'Find jobs', path === '/jobs' || path.startsWith('/job/'))}
    </nav>
    ${access === 'keyed' && html`<button type="button" class="link" onClick=${onForget}>Forget key</button>`}
  </header>`;
}

function App() {
  const route = useRoute();
  const [access, setAccess] = useState({ state: 'probing' });
  const probe = useCallback(() => {
    setAccess({ state: 'probing' });
    probeAccess().then(setAccess);
  }, []);
  useEffect(probe, []);
  // Any call answered 401 later (a key removed from RELAY_API_KEYS meanwhile) asks for a key again.
  const onUnauthorized = useCallback(() => {
    storedKey.clear();
    setAccess({ state: 'locked', message: 'The relay refused the API key (401). Enter a valid key.' });
  }, []);
  const onKey = (summary) => setAccess({ state: 'keyed', summary });
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

  const context = { api, simulationEnabled: access.summary.simulation_enabled, onUnauthorized };
  const { path, params } = route;
  let page;
  if (path === '/failed') page = html`<${FailedDeliveries} ...${context} />`;
  else if (path === '/jobs') page = html`<${FindJobs} ...${context} params=${params} />`;
  else if (path.startsWith('/job/')) {
    const jobId = jobIdOf(path.slice(5));
    // Keyed by job: an action still running for the previous job updates that page's state, never this one's.
    page = jobId
      ? html`<${JobPage} key=${jobId} ...${context} jobId=${jobId} />`
      : html`<p class="notice error" role="alert">Not a job id.</p>`;
  } else page = html`<${Overview} ...${context} initial=${access.summary} />`;
  return html`<${Nav} path=${path} access=${access.state} onForget=${onForget} />
    ${access.state === 'open' && html`<p class="banner" role="note">No API key required: this relay is open (RELAY_API_KEYS is not set).</p>`}
    <main>${page}</main>`;
}

render(html`<${App} />`, document.getElementById('app'));
