import { useData, LoadError } from './data.js';
import { clientLabel, countOf, formatAnswer, formatRelative, formatTime, routeHref } from './format.js';
import { html, useState } from './html.js';
import { redeliverAndFollow } from './redeliver.js';

const PAGE = 50;

/** The delivery_failed jobs, newest first, with the receiver's last answer; redeliver one, or several at once. */
export function FailedDeliveries({ api, onUnauthorized, clientId, clientNames }) {
  const [cursor, setCursor] = useState(null);
  const { data, error, loading, reload } = useData(
    () =>
      api.list({
        status: 'delivery_failed',
        limit: PAGE,
        ...(cursor ? { cursor } : {}),
        ...(clientId ? { client_id: clientId } : {}),
      }),
    [api, cursor, clientId],
    { onUnauthorized },
  );
  const [selected, setSelected] = useState(new Set());
  const [results, setResults] = useState({});
  const items = data ? data.items : [];
  const now = Date.now();

  const report = (jobId) => (text, tone) => setResults((old) => ({ ...old, [jobId]: { text, tone } }));
  const redeliver = (ids) => Promise.all(ids.map((id) => redeliverAndFollow(api, id, report(id), onUnauthorized)));
  const toggle = (id) =>
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  // Only what is on screen is ever redelivered: a selection does not survive a page change or a refresh that
  // dropped the job (another operator may have redelivered it meanwhile).
  const chosen = items.filter((job) => selected.has(job.job_id)).map((job) => job.job_id);
  const allSelected = items.length > 0 && chosen.length === items.length;
  const toggleAll = () => setSelected(allSelected ? new Set() : new Set(items.map((job) => job.job_id)));
  const redeliverSelected = () => {
    setSelected(new Set());
    redeliver(chosen);
  };
  const goTo = (next) => {
    setSelected(new Set());
    setCursor(next);
  };

  return html`<section aria-labelledby="failed-title">
    <h2 id="failed-title">
      Failed deliveries${clientId && html` <span class="muted">of ${clientLabel(clientId, clientNames)}</span>`}
    </h2>
    <p class="hint">
      Jobs whose delivery retries ran out (or whose receiver answered 410), newest first. Redelivery keeps the job's
      <code>webhook-id</code> and starts a new round with the full retry budget.
    </p>
    <${LoadError} error=${error} />
    <div class="toolbar">
      <label class="check"
        ><input type="checkbox" checked=${allSelected} onChange=${toggleAll} disabled=${items.length === 0} /> Select
        all on this page</label
      >
      <button type="button" onClick=${redeliverSelected} disabled=${chosen.length === 0}>
        Redeliver selected (${chosen.length})
      </button>
      <button type="button" class="secondary" onClick=${reload}>Refresh</button>
    </div>
    ${
      loading && !data
        ? html`<p class="loading">Loading…</p>`
        : items.length === 0
          ? html`<p class="empty">No failed deliveries${cursor ? ' on this page' : ''}.</p>`
          : html` <div class="table-wrap">
              <table class="stack jobs failed-jobs">
                <thead>
                  <tr>
                    <th scope="col"><span class="sr-only">Select</span></th>
                    <th scope="col">Job</th>
                    ${clientNames && html`<th scope="col">Client</th>`}
                    <th scope="col">Submission</th>
                    <th scope="col">Receiver's last answer</th>
                    <th scope="col">When</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Action</th>
                  </tr>
                </thead>
                <tbody>
                  ${items.map((job) => {
                    const result = results[job.job_id];
                    return html`<tr data-job=${job.job_id}>
                      <td data-label="Select">
                        <input
                          type="checkbox"
                          aria-label=${`Select ${job.job_id}`}
                          checked=${selected.has(job.job_id)}
                          onChange=${() => toggle(job.job_id)}
                        />
                      </td>
                      <td data-label="Job">
                        <a class="mono" href=${routeHref(`/job/${job.job_id}`)}>${job.job_id}</a>
                      </td>
                      ${clientNames && html`<td data-label="Client" data-client=${job.client_id}>${clientLabel(job.client_id, clientNames)}</td>`}
                      <td data-label="Submission">${job.submission_id}</td>
                      <td data-label="Last answer" class="answer">
                        ${formatAnswer(job.delivery.last_status_code, job.delivery.last_error)}
                      </td>
                      <td data-label="When">
                        <time datetime=${job.delivery.last_attempt_at} title=${formatTime(job.delivery.last_attempt_at)}
                          >${formatRelative(job.delivery.last_attempt_at, now)}</time
                        >
                      </td>
                      <td data-label="Attempts">
                        ${job.delivery.attempts} in ${countOf(job.delivery.rounds, 'round')}
                      </td>
                      <td data-label="Action" class="action">
                        <button
                          type="button"
                          aria-label=${`Redeliver ${job.job_id}`}
                          onClick=${() => redeliver([job.job_id])}
                          disabled=${result && result.tone === 'busy'}
                        >
                          Redeliver
                        </button>
                        ${result && html`<span class=${`result ${result.tone}`} role="status">${result.text}</span>`}
                      </td>
                    </tr>`;
                  })}
                </tbody>
              </table>
            </div>`
    }
    <div class="pager">
      ${cursor && html`<button type="button" class="secondary" onClick=${() => goTo(null)}>First page</button>`}
      ${data && data.next_cursor && html`<button type="button" class="secondary" onClick=${() => goTo(data.next_cursor)}>Next page</button>`}
    </div>
  </section>`;
}
