import { useData, LoadError } from './data.js';
import {
  actionsFor,
  clientLabel,
  countOf,
  describeError,
  formatAnswer,
  formatDuration,
  formatTime,
  isActive,
  routeHref,
  statusLabel,
} from './format.js';
import { html, useEffect, useRef, useState } from './html.js';
import { PriorityBadge } from './job-table.js';
import { redeliverAndFollow } from './redeliver.js';

const REFRESH_MS = 3000;

function Lifecycle({ job }) {
  const steps = [
    ['Created', job.created_at],
    ['Forwarded (LLM accepted it)', job.forwarded_at],
    ['Callback awaited until', job.callback_deadline_at],
    ['Result or failure known', job.completed_at],
    ['Delivered', job.delivered_at],
    ['Cancelled', job.cancelled_at],
    ['Next delivery attempt', job.delivery.next_attempt_at],
  ].filter(([, at]) => at);
  return html`<ol class="lifecycle">
    ${steps.map(([label, at]) => html`<li><span>${label}</span> <time datetime=${at}>${formatTime(at)}</time></li>`)}
  </ol>`;
}

function Timeline({ attempts }) {
  if (attempts.length === 0) return html`<p class="empty">No attempts yet.</p>`;
  return html`<div class="table-wrap">
    <table class="stack timeline">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Leg</th>
          <th scope="col">#</th>
          <th scope="col">Target</th>
          <th scope="col">Server</th>
          <th scope="col">Answer</th>
          <th scope="col">Outcome</th>
          <th scope="col">Duration</th>
        </tr>
      </thead>
      <tbody>
        ${attempts.map(
          (a) =>
            html`<tr class=${`leg-${a.leg} outcome-${a.outcome}`}>
              <td data-label="Time"><time datetime=${a.started_at}>${formatTime(a.started_at)}</time></td>
              <td data-label="Leg">${a.leg}</td>
              <td data-label="#">
                ${a.attempt_no}${a.round ? html` <span class="muted">(round ${a.round})</span>` : ''}
              </td>
              <td data-label="Target" class="mono target">${a.target}</td>
              <td data-label="Server" class="mono" data-attempt-server>${a.llm_server ?? '—'}</td>
              <td data-label="Answer">${formatAnswer(a.status_code, a.error)}</td>
              <td data-label="Outcome"><span class=${`badge outcome-${a.outcome}`}>${a.outcome}</span></td>
              <td data-label="Duration">${formatDuration(a.duration_ms)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function Actions({ api, job, simulationEnabled, onUnauthorized, onChange }) {
  const allowed = actionsFor(job.status, simulationEnabled);
  const [result, setResult] = useState(null);
  const [confirming, setConfirming] = useState(false);
  // Keyboard focus follows the confirmation: onto "Yes, cancel it" when it opens, back to "Cancel job" when kept.
  const cancelButton = useRef(null);
  const confirmButton = useRef(null);
  const opened = useRef(false);
  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
    else if (opened.current) cancelButton.current?.focus();
    opened.current = confirming;
  }, [confirming]);
  const report = (text, tone) => {
    setResult({ text, tone });
    if (tone !== 'busy') onChange();
  };
  async function run(label, call) {
    setConfirming(false);
    report(`${label}…`, 'busy');
    try {
      const answer = await call();
      report(`${label}: done (${answer && answer.status ? statusLabel(answer.status) : 'accepted'})`, 'ok');
    } catch (error) {
      if (error.status === 401) return onUnauthorized();
      report(`${label} refused: ${describeError(error)}`, 'error');
    }
  }
  const none = !allowed.redeliver && !allowed.cancel && !allowed.simulate;
  return html`<div class="actions">
    ${allowed.redeliver && html`<button type="button" onClick=${() => redeliverAndFollow(api, job.job_id, report, onUnauthorized)}>Redeliver</button>`}
    ${allowed.simulate && html`<button type="button" class="secondary" onClick=${() => run('Simulated LLM result', () => api.simulate(job.job_id))}>Simulate LLM result</button>`}
    ${allowed.cancel && !confirming && html`<button type="button" class="danger" ref=${cancelButton} onClick=${() => setConfirming(true)}>Cancel job</button>`}
    ${
      allowed.cancel &&
      confirming &&
      html`<span class="confirm" role="group" aria-label="Confirm cancellation">
        Nothing more will be sent for this job.
        <button
          type="button"
          class="danger"
          ref=${confirmButton}
          onClick=${() => run('Cancel', () => api.cancel(job.job_id))}
        >
          Yes, cancel it
        </button>
        <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Keep it</button>
      </span>`
    }
    ${none && html`<span class="muted">No action applies to a ${statusLabel(job.status)} job.</span>`}
    ${result && html`<span class=${`result ${result.tone}`} role="status">${result.text}</span>`}
  </div>`;
}

/** One job: status, lifecycle, result or error, webhook-id, its whole timeline, and the actions its state allows. */
export function JobPage({ api, jobId, simulationEnabled, onUnauthorized, clientNames }) {
  // What the page shows decides whether it keeps refreshing: only a job in work changes by itself.
  const shown = useRef({ loaded: false, active: true });
  const { data, error, loading, reload } = useData(
    async () => {
      const [job, attempts] = await Promise.all([api.job(jobId), api.attempts(jobId)]);
      return { job, attempts: attempts.items };
    },
    [api, jobId],
    { refreshMs: REFRESH_MS, onUnauthorized, refreshWhile: () => !shown.current.loaded || shown.current.active },
  );
  // A job that could not be loaded at all (404) is not asked for again until the operator reloads.
  shown.current = data
    ? { loaded: true, active: isActive(data.job.status) }
    : { loaded: Boolean(error), active: false };
  if (loading && !data) return html`<p class="loading">Loading ${jobId}…</p>`;
  if (!data)
    return html`<section>
      <h2 class="mono">${jobId}</h2>
      <${LoadError} error=${error} />
    </section>`;
  const { job, attempts } = data;
  return html`<section aria-labelledby="job-title" class="job">
    <h2 id="job-title">
      <span class="mono">${job.job_id}</span>
      <span class=${`badge status-${job.status}`} data-job-status=${job.status}>${statusLabel(job.status)}</span>
      <${PriorityBadge} job=${job} quiet />
    </h2>
    <${LoadError} error=${error} />
    <${Actions}
      api=${api}
      job=${job}
      simulationEnabled=${simulationEnabled}
      onUnauthorized=${onUnauthorized}
      onChange=${reload}
    />
    <div class="columns">
      <dl class="details">
        <div>
          <dt>Client</dt>
          <dd data-field="client">
            ${clientNames ? html`<a href=${routeHref('/jobs', { client_id: job.client_id })}>${clientLabel(job.client_id, clientNames)}</a>` : job.client_id}
          </dd>
        </div>
        <div>
          <dt>Priority</dt>
          <dd data-field="priority"><${PriorityBadge} job=${job} bare /></dd>
        </div>
        <div>
          <dt>Submission</dt>
          <dd>${job.submission_id}</dd>
        </div>
        <div>
          <dt>Student</dt>
          <dd>${job.student_id || '—'}</dd>
        </div>
        <div>
          <dt>Webhook URL</dt>
          <dd class="mono">${job.webhook_url}</dd>
        </div>
        <div>
          <dt>webhook-id</dt>
          <dd class="mono" data-field="webhook-id">${job.delivery.webhook_id}</dd>
        </div>
        <div>
          <dt>LLM server</dt>
          <dd class="mono" data-field="llm-server">
            ${job.llm_server ?? html`<span class="muted">none yet (not forwarded)</span>`}
          </dd>
        </div>
        <div>
          <dt>Forward attempts</dt>
          <dd>${job.forward_attempts}</dd>
        </div>
        <div>
          <dt>Deliveries</dt>
          <dd>
            ${countOf(job.delivery.attempts, 'attempt')} in ${countOf(job.delivery.rounds, 'round')}; last:
            ${formatAnswer(job.delivery.last_status_code, job.delivery.last_error)}
          </dd>
        </div>
        ${
          job.queue_position !== undefined &&
          html`<div>
            <dt>Queue position</dt>
            <dd>${job.queue_position}</dd>
          </div>`
        }
        ${
          isActive(job.status) &&
          html`<div>
            <dt>Refresh</dt>
            <dd>every ${REFRESH_MS / 1000} s while the job is in work</dd>
          </div>`
        }
      </dl>
      <div>
        <h3>Lifecycle</h3>
        <${Lifecycle} job=${job} />
      </div>
    </div>
    <h3>${job.ok === false ? 'Error' : 'Result'}</h3>
    ${job.error && html`<p class="notice error"><strong>${job.error.code}</strong>: ${job.error.message}</p>`}
    ${job.ok === null ? html`<p class="muted">Not known yet.</p>` : job.result !== null && html`<pre class="result-json">${JSON.stringify(job.result, null, 2)}</pre>`}
    <h3>Timeline</h3>
    <${Timeline} attempts=${attempts} />
  </section>`;
}
