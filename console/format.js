// Pure formatting and rules of the console: no DOM, no fetch, so Jest tests them directly.

export const STATUSES = ['queued', 'processing', 'delivering', 'delivered', 'delivery_failed', 'cancelled'];

const JOB_ID = /^job_[0-9a-f]{32}$/;

/** Whether the text is a job id (else the console searches it as a submission id). */
export function isJobId(text) {
  return JOB_ID.test(text.trim());
}

/** "42 s", "3 min 5 s", "2 h 10 min", "3 d 4 h"; a dash when unknown. */
export function formatAge(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** "1 attempt", "2 attempts", "0 rounds". */
export function countOf(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "85 ms", "1.2 s". */
export function formatDuration(ms) {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** An ISO time as "2026-11-27 10:30:25 UTC": one zone for every operator reading the same screen. */
export function formatTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** "12 s ago", "in 3 min 0 s". */
export function formatRelative(iso, now) {
  if (!iso) return '';
  const seconds = (now - Date.parse(iso)) / 1000;
  return seconds >= 0 ? `${formatAge(seconds)} ago` : `in ${formatAge(-seconds)}`;
}

/** What the other side answered: "HTTP 500", a transport error, or a dash when nothing was tried. */
export function formatAnswer(statusCode, error) {
  if (statusCode !== null && statusCode !== undefined)
    return error ? `HTTP ${statusCode}: ${error}` : `HTTP ${statusCode}`;
  return error || '—';
}

/** "delivery_failed" → "delivery failed". */
export function statusLabel(status) {
  return String(status).replace(/_/g, ' ');
}

/** The actions an operator may take on a job in this status (the API answers 409 to the others). */
export function actionsFor(status, simulationEnabled) {
  return {
    redeliver: status === 'delivered' || status === 'delivery_failed',
    cancel: status === 'queued' || status === 'processing' || status === 'delivering',
    simulate: Boolean(simulationEnabled) && (status === 'queued' || status === 'processing'),
  };
}

/** Whether the job may still change by itself (worth refreshing its page). */
export function isActive(status) {
  return status === 'queued' || status === 'processing' || status === 'delivering';
}

/** A failed call as one line: "401 unauthorized: Missing or wrong API key", or the network error. */
export function describeError(error) {
  if (error && typeof error.status === 'number') {
    const body = error.body || {};
    const code = body.code ? ` ${body.code}` : '';
    const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
    return `${error.status}${code}${message ? `: ${message}` : ''}`;
  }
  return error && error.message ? error.message : String(error);
}

/** Parses the "#/path?a=b" route into its path and parameters. */
export function parseRoute(hash) {
  const text = (hash || '').replace(/^#/, '') || '/';
  const [path, query = ''] = text.split('?');
  return { path: path || '/', params: Object.fromEntries(new URLSearchParams(query)) };
}

/** "#/jobs?status=queued": the inverse of parseRoute, leaving out empty parameters. */
export function routeHref(path, params = {}) {
  const query = new URLSearchParams(
    Object.entries(params).filter(([, value]) => value !== undefined && value !== null && value !== ''),
  );
  const text = query.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

/** The webhook URL prefixes typed one per line: trimmed, blank lines left out. */
export function parsePrefixes(text) {
  return String(text || '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}

export const MAX_GRACE_HOURS = 168;

/** A grace period typed in hours (0 to 168, fractions allowed) in whole seconds; null when it is not one. */
export function graceSeconds(hoursText) {
  const text = String(hoursText ?? '').trim();
  if (!/^\d+(\.\d+)?$/.test(text)) return null;
  const hours = Number(text);
  return hours <= MAX_GRACE_HOURS ? Math.round(hours * 3600) : null;
}

/** "Course platform (cli_…)"; the id alone for a client the console does not know (yet). */
export function clientLabel(clientId, names) {
  const name = names && names.get(clientId);
  return name ? `${name} (${clientId})` : clientId;
}

/**
 * A client's fair-share settings, with the bounds the relay checks (POST and PATCH /v1/clients answer 400
 * validation_failed beyond them). A limit of 0 is no limit.
 */
export const SETTINGS = [
  { field: 'weight', label: 'Weight', short: 'weight', min: 1, max: 100 },
  { field: 'max_in_flight', label: 'Max in flight', short: 'max in flight', min: 0, max: 10_000_000 },
  { field: 'max_backlog', label: 'Max backlog', short: 'backlog', min: 0, max: 10_000_000 },
  { field: 'intake_rate_limit', label: 'Intake rate limit', short: 'rate', min: 0, max: 10_000_000 },
];

/** A limit as shown: "none" for 0. */
export function limitLabel(value) {
  return value === 0 ? 'none' : String(value);
}

/** "weight 3 · max in flight 2 · backlog none · rate none". */
export function settingsLine(client) {
  return SETTINGS.map(({ field, short }) =>
    field === 'weight' ? `${short} ${client[field]}` : `${short} ${limitLabel(client[field])}`,
  ).join(' · ');
}

/**
 * The settings typed in a form (text by field) as the numbers to send, or the first problem in words. A blank limit
 * is 0 (none); a blank weight is a problem.
 */
export function parseSettings(texts) {
  const values = {};
  for (const { field, label, min, max } of SETTINGS) {
    const text = String(texts[field] ?? '').trim();
    const value = text === '' && min === 0 ? 0 : /^\d{1,9}$/.test(text) ? Number(text) : NaN;
    if (!(value >= min && value <= max))
      return { problem: `${label} is a whole number from ${min.toLocaleString('en')} to ${max.toLocaleString('en')}.` };
    values[field] = value;
  }
  return { values };
}

/** The settings of a client as the form's texts. */
export function settingsTexts(client) {
  return Object.fromEntries(
    SETTINGS.map(({ field }) => [field, String(client[field] ?? (field === 'weight' ? 1 : 0))]),
  );
}

/** A job's priority as the API names it; a job from before priorities reads as normal. */
export function priorityOf(job) {
  return job && (job.priority === 'high' || job.priority === 'low') ? job.priority : 'normal';
}

/** The states of an LLM server as the summary names them, in words an operator reads. */
const SERVER_STATES = {
  closed: 'healthy',
  open: 'circuit open',
  'half-open': 'probing',
  paused: 'paused',
  unhealthy: 'unhealthy',
};

/** "circuit open" for `open`; a state the console does not know yet is shown as the relay names it. */
export function serverStateLabel(state) {
  return Object.hasOwn(SERVER_STATES, state) ? SERVER_STATES[state] : String(state);
}

/** The CSS class of a server's state: `server-open`, `server-half-open`; `server-other` for an unknown one. */
export function serverStateClass(state) {
  return `server-${Object.hasOwn(SERVER_STATES, state) ? state : 'other'}`;
}

/** An LLM server's capacity: "no limit" for 0. */
export function capacityLabel(maxInFlight) {
  return maxInFlight ? String(maxInFlight) : 'no limit';
}
