import { useData, LoadError } from './data.js';
import { clientLabel, isJobId, routeHref, STATUSES, statusLabel } from './format.js';
import { html, useEffect, useState } from './html.js';
import { JobTable } from './job-table.js';

const PAGE = 20;

/**
 * Find a job by job_id (opens its page) or submission_id, and browse by status. The filters live in the address
 * (#/jobs?status=…&submission_id=…&cursor=…), so a page of results can be linked and the browser's Back works.
 */
export function FindJobs({ api, onUnauthorized, params, clientId, clientNames }) {
  const [text, setText] = useState(params.submission_id || '');
  const [status, setStatus] = useState(params.status || '');
  useEffect(() => {
    setText(params.submission_id || '');
    setStatus(params.status || '');
  }, [params.submission_id, params.status]);
  const filtered = Boolean(params.submission_id || params.status);
  const query = {
    limit: PAGE,
    ...(params.status ? { status: params.status } : {}),
    ...(params.submission_id ? { submission_id: params.submission_id } : {}),
    ...(params.cursor ? { cursor: params.cursor } : {}),
    ...(clientId ? { client_id: clientId } : {}),
  };
  const { data, error, loading } = useData(
    () => api.list(query),
    [api, params.status, params.submission_id, params.cursor, clientId],
    { onUnauthorized },
  );

  function submit(event) {
    event.preventDefault();
    const value = text.trim();
    if (isJobId(value)) window.location.hash = routeHref(`/job/${value}`);
    else window.location.hash = routeHref('/jobs', { submission_id: value, status, client_id: clientId });
  }

  return html`<section aria-labelledby="find-title">
    <h2 id="find-title">Find jobs</h2>
    <form class="search" role="search" onSubmit=${submit}>
      <div class="field">
        <label for="find-text">Job id or submission id</label>
        <input
          id="find-text"
          type="search"
          value=${text}
          placeholder="job_… or a submission id"
          onInput=${(e) => setText(e.target.value)}
        />
      </div>
      <div class="field">
        <label for="find-status">Status</label>
        <select id="find-status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
          <option value="">any status</option>
          ${STATUSES.map((s) => html`<option value=${s}>${statusLabel(s)}</option>`)}
        </select>
      </div>
      <button type="submit">Search</button>
    </form>
    <${LoadError} error=${error} />
    <h3>
      ${filtered ? `Jobs${params.status ? ` ${statusLabel(params.status)}` : ''}${params.submission_id ? ` for submission ${params.submission_id}` : ''}` : 'Newest jobs'}${clientId ? ` of ${clientLabel(clientId, clientNames)}` : ''}
    </h3>
    ${loading && !data ? html`<p class="loading">Loading…</p>` : data && data.items.length === 0 ? html`<p class="empty">No jobs match.</p>` : data && html`<${JobTable} items=${data.items} clientNames=${clientNames} />`}
    <div class="pager">
      ${params.cursor && html`<a class="button secondary" href=${routeHref('/jobs', { ...params, cursor: '' })}>First page</a>`}
      ${data && data.next_cursor && html`<a class="button secondary" href=${routeHref('/jobs', { ...params, cursor: data.next_cursor })}>Next page</a>`}
    </div>
  </section>`;
}
