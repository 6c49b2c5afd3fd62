import { clientLabel, formatAnswer, formatTime, priorityOf, routeHref, statusLabel } from './format.js';
import { html } from './html.js';

/**
 * A job's priority (the order of its forward among its client's waiting jobs), as a badge: "high priority" beside a
 * status, or the bare word under a "Priority" heading (`bare`). `quiet`: nothing for normal, the usual case, so a list
 * marks only the jobs that differ.
 */
export function PriorityBadge({ job, quiet, bare }) {
  const priority = priorityOf(job);
  if (quiet && priority === 'normal') return null;
  return html`<span class=${`badge priority-${priority}`} data-priority=${priority}
    >${bare ? priority : `${priority} priority`}</span
  >`;
}

/**
 * Jobs as the list API gives them: a link to each job's page, its status (and priority, when not normal) and its
 * delivery in one line; with `clientNames` (an admin key, which sees every client's jobs), whose job it is.
 */
export function JobTable({ items, clientNames }) {
  return html`<div class="table-wrap">
    <table class="stack jobs">
      <thead>
        <tr>
          <th scope="col">Job</th>
          ${clientNames && html`<th scope="col">Client</th>`}
          <th scope="col">Submission</th>
          <th scope="col">Status</th>
          <th scope="col">Created</th>
          <th scope="col">Last delivery answer</th>
        </tr>
      </thead>
      <tbody>
        ${items.map(
          (job) =>
            html`<tr data-job=${job.job_id}>
              <td data-label="Job"><a class="mono" href=${routeHref(`/job/${job.job_id}`)}>${job.job_id}</a></td>
              ${clientNames && html`<td data-label="Client" data-client=${job.client_id}>${clientLabel(job.client_id, clientNames)}</td>`}
              <td data-label="Submission">${job.submission_id}</td>
              <td data-label="Status">
                <span class=${`badge status-${job.status}`}>${statusLabel(job.status)}</span>
                ${' '}<${PriorityBadge} job=${job} quiet />
              </td>
              <td data-label="Created">${formatTime(job.created_at)}</td>
              <td data-label="Last delivery">
                ${formatAnswer(job.delivery.last_status_code, job.delivery.last_error)}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
