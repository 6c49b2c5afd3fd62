import {
  countOf,
  describeError,
  formatTime,
  graceSeconds,
  MAX_GRACE_HOURS,
  parsePrefixes,
  parseSettings,
  SETTINGS,
  settingsLine,
  settingsTexts,
} from './format.js';
import { html, useEffect, useRef, useState } from './html.js';

const ENVIRONMENT_NOTE =
  "The default client's API keys and signing secret come from the environment (RELAY_API_KEYS, " +
  'CALLBACK_HMAC_SECRET, CALLBACK_HMAC_PREVIOUS_SECRETS): change them there.';

/** A key or a secret shown this once, in a read-only field, with a button that copies it. */
function OneTimeValue({ id, label, value }) {
  const [copied, setCopied] = useState(null);
  const field = useRef(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied({ text: 'Copied.', tone: 'ok' });
    } catch {
      field.current?.select();
      setCopied({ text: 'Could not copy: the text is selected, copy it by hand.', tone: 'error' });
    }
  }
  return html`<div class="field one-time">
    <label for=${id}>${label}</label>
    <div class="copy-row">
      <input
        id=${id}
        ref=${field}
        class="mono"
        type="text"
        readonly
        autocomplete="off"
        spellcheck="false"
        value=${value}
        onFocus=${(e) => e.target.select()}
      />
      <button type="button" class="secondary" aria-label=${`Copy the ${label.toLowerCase()}`} onClick=${copy}>
        Copy
      </button>
      ${copied && html`<span class=${`result ${copied.tone}`} role="status">${copied.text}</span>`}
    </div>
  </div>`;
}

const onceNote = (count) => {
  const them = count > 1 ? 'them' : 'it';
  return `Copy ${them} now and store ${them} where the web service reads its settings: the relay will not show ${them} again.`;
};

/**
 * What the relay answered with a new key or secret in it: shown until the operator hides it or leaves the page,
 * then gone from the page (the relay keeps only a digest of a key, and secrets encrypted: neither is shown again).
 */
function Revealed({ revealed, onDismiss }) {
  const panel = useRef(null);
  useEffect(() => {
    panel.current?.focus();
    panel.current?.scrollIntoView({ block: 'nearest' });
  }, [revealed]);
  return html`<section class="revealed" ref=${panel} tabindex="-1" aria-labelledby="revealed-title">
    <h4 id="revealed-title">${revealed.title}</h4>
    <p class="notice warn"><strong>Shown this once.</strong> ${onceNote(revealed.values.length)}</p>
    ${revealed.values.map(
      (item, i) =>
        html`<${OneTimeValue} key=${item.label} id=${`revealed-${i}`} label=${item.label} value=${item.value} />`,
    )}
    ${revealed.extra && html`<p data-field=${revealed.extra.field}>${revealed.extra.text}</p>`}
    <button type="button" onClick=${onDismiss}>Done: hide ${revealed.values.length > 1 ? 'them' : 'it'}</button>
  </section>`;
}

/** A button whose action waits for a second, explicit click; focus follows the question and back. */
function Confirm({ label, ariaLabel, question, yes, onYes, disabled }) {
  const [asking, setAsking] = useState(false);
  const first = useRef(null);
  const confirm = useRef(null);
  const opened = useRef(false);
  useEffect(() => {
    if (asking) confirm.current?.focus();
    else if (opened.current) first.current?.focus();
    opened.current = asking;
  }, [asking]);
  if (!asking)
    return html`<button
      type="button"
      class="danger"
      ref=${first}
      aria-label=${ariaLabel}
      disabled=${disabled}
      onClick=${() => setAsking(true)}
    >
      ${label}
    </button>`;
  return html`<span class="confirm" role="group" aria-label=${`Confirm: ${ariaLabel || label}`}>
    ${question}
    <button
      type="button"
      class="danger"
      ref=${confirm}
      onClick=${() => {
        setAsking(false);
        onYes();
      }}
    >
      ${yes}
    </button>
    <button type="button" class="secondary" onClick=${() => setAsking(false)}>Keep it</button>
  </span>`;
}

function PrefixesField({ id, value, onInput }) {
  return html`<div class="field">
    <label for=${id}>Webhook URL prefixes <span class="muted">(optional, one per line)</span></label>
    <textarea
      id=${id}
      rows="3"
      spellcheck="false"
      placeholder="https://lms.example.edu/hooks/"
      value=${value}
      onInput=${(e) => onInput(e.target.value)}
    ></textarea>
    <span class="hint">Where this client's webhook_url may point; none: anywhere the relay allows.</span>
  </div>`;
}

const SETTING_HINTS = {
  weight: 'Its share of the LLM against the other clients with jobs waiting (1 to 100).',
  max_in_flight: 'Its jobs at the LLM at most; 0: no cap of its own (LLM_MAX_IN_FLIGHT still caps all).',
  max_backlog: 'Its jobs waiting at most; beyond it intake answers 503 backlog_full. 0: none.',
  intake_rate_limit: 'Its intake requests per INTAKE_RATE_WINDOW_SECONDS at most; beyond it 429. 0: none.',
};

/** The four fair-share settings, typed as text and checked on submit (parseSettings). */
function SettingsFields({ id, texts, onInput }) {
  return html`<fieldset class="settings">
    <legend>Fair share</legend>
    ${SETTINGS.map(
      ({ field, label }) =>
        html`<div class="field" key=${field}>
          <label for=${`${id}-${field}`}>${label}</label>
          <input
            id=${`${id}-${field}`}
            class="short"
            inputmode="numeric"
            autocomplete="off"
            data-setting=${field}
            aria-describedby=${`${id}-${field}-hint`}
            value=${texts[field]}
            onInput=${(e) => onInput({ ...texts, [field]: e.target.value })}
          />
          <span class="hint" id=${`${id}-${field}-hint`}>${SETTING_HINTS[field]}</span>
        </div>`,
    )}
  </fieldset>`;
}

const DEFAULT_SETTINGS = { weight: '1', max_in_flight: '0', max_backlog: '0', intake_rate_limit: '0' };

/** Runs one call against the management API, reporting through `setResult`; a 401 asks for a key again. */
async function attempt(label, call, { setResult, onUnauthorized }) {
  setResult({ text: `${label}…`, tone: 'busy' });
  try {
    const answer = await call();
    setResult({ text: `${label}: done.`, tone: 'ok' });
    return { answer };
  } catch (error) {
    if (error.status === 401) {
      onUnauthorized();
      return { failed: true };
    }
    setResult({ text: `${label} refused: ${describeError(error)}`, tone: 'error' });
    return { failed: true };
  }
}

function CreateClient({ api, onUnauthorized, onCreated }) {
  const [name, setName] = useState('');
  const [prefixes, setPrefixes] = useState('');
  const [settings, setSettings] = useState(DEFAULT_SETTINGS);
  const [result, setResult] = useState(null);
  const busy = result && result.tone === 'busy';
  async function submit(event) {
    event.preventDefault();
    const wanted = name.trim();
    if (!wanted) return setResult({ text: 'Give the client a name.', tone: 'error' });
    const { values, problem } = parseSettings(settings);
    if (problem) return setResult({ text: problem, tone: 'error' });
    const list = parsePrefixes(prefixes);
    const { answer, failed } = await attempt(
      'Creating the client',
      () => api.createClient({ name: wanted, ...(list.length ? { webhook_url_prefixes: list } : {}), ...values }),
      { setResult, onUnauthorized },
    );
    if (failed) return;
    setName('');
    setPrefixes('');
    setSettings(DEFAULT_SETTINGS);
    setResult(null);
    onCreated(answer);
  }
  return html`<form class="create-client" onSubmit=${submit} aria-labelledby="create-title">
    <h3 id="create-title">New client</h3>
    <div class="field">
      <label for="new-client-name">Name</label>
      <input
        id="new-client-name"
        maxlength="200"
        value=${name}
        placeholder="Course platform"
        onInput=${(e) => setName(e.target.value)}
      />
    </div>
    <${PrefixesField} id="new-client-prefixes" value=${prefixes} onInput=${setPrefixes} />
    <${SettingsFields} id="new-client" texts=${settings} onInput=${setSettings} />
    <div class="toolbar">
      <button type="submit" disabled=${busy}>Create client</button>
      ${result && html`<span class=${`result ${result.tone}`} role="status">${result.text}</span>`}
    </div>
  </form>`;
}

function EditClient({ api, client, onUnauthorized, onSaved, onClose }) {
  const [name, setName] = useState(client.name);
  const [prefixes, setPrefixes] = useState(client.webhook_url_prefixes.join('\n'));
  const [settings, setSettings] = useState(() => settingsTexts(client));
  const [result, setResult] = useState(null);
  async function save(event) {
    event.preventDefault();
    const wanted = name.trim();
    if (!wanted) return setResult({ text: 'Give the client a name.', tone: 'error' });
    // Checked here as the relay checks them, so nothing is sent (nor changed) when one is out of bounds.
    const { values, problem } = parseSettings(settings);
    if (problem) return setResult({ text: `Not saved: ${problem}`, tone: 'error' });
    const { failed } = await attempt(
      'Saving',
      () =>
        api.updateClient(client.client_id, { name: wanted, webhook_url_prefixes: parsePrefixes(prefixes), ...values }),
      { setResult, onUnauthorized },
    );
    if (!failed) onSaved('Saved.');
  }
  const id = `edit-${client.client_id}`;
  return html`<form class="edit-client" onSubmit=${save} aria-label=${`Edit ${client.client_id}`}>
    <div class="field">
      <label for=${`${id}-name`}>Name</label>
      <input id=${`${id}-name`} maxlength="200" value=${name} onInput=${(e) => setName(e.target.value)} />
    </div>
    <${PrefixesField} id=${`${id}-prefixes`} value=${prefixes} onInput=${setPrefixes} />
    <${SettingsFields} id=${id} texts=${settings} onInput=${setSettings} />
    <div class="toolbar">
      <button type="submit" disabled=${result && result.tone === 'busy'}>Save</button>
      <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
      ${result && html`<span class=${`result ${result.tone}`} role="status">${result.text}</span>`}
    </div>
  </form>`;
}

function KeyTable({ api, client, onUnauthorized, setResult, reload }) {
  if (client.managed_by_environment)
    return html`<p class="muted">Its keys are the ones in RELAY_API_KEYS; the relay lists no key of it here.</p>`;
  if (client.api_keys.length === 0) return html`<p class="empty">No API key: it cannot call the relay.</p>`;
  const revoke = async (keyId) => {
    const { failed } = await attempt(`Revoking ${keyId}`, () => api.revokeKey(client.client_id, keyId), {
      setResult,
      onUnauthorized,
    });
    if (!failed) reload(`Revoked ${keyId}: requests with it are refused from now on.`);
  };
  return html`<div class="table-wrap">
    <table class="stack keys">
      <thead>
        <tr>
          <th scope="col">Key id</th>
          <th scope="col">Created</th>
          <th scope="col">Last used</th>
          <th scope="col"><span class="sr-only">Action</span></th>
        </tr>
      </thead>
      <tbody>
        ${client.api_keys.map(
          (key) =>
            html`<tr data-key=${key.key_id}>
              <td data-label="Key id" class="mono">${key.key_id}</td>
              <td data-label="Created">${formatTime(key.created_at)}</td>
              <td data-label="Last used" data-field="last-used">
                ${key.last_used_at ? formatTime(key.last_used_at) : 'never'}
              </td>
              <td data-label="Action" class="action">
                <${Confirm}
                  label="Revoke"
                  ariaLabel=${`Revoke ${key.key_id}`}
                  question="Requests with this key are refused from now on."
                  yes="Yes, revoke it"
                  onYes=${() => revoke(key.key_id)}
                />
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function ClientCard({ api, client, onUnauthorized, reloadClients, revealed, reveal, dismiss }) {
  const [result, setResult] = useState(null);
  const [editing, setEditing] = useState(false);
  const [grace, setGrace] = useState('24');
  const managed = client.managed_by_environment;
  const id = client.client_id;
  const options = { setResult, onUnauthorized };
  // After a change the list is read again, so this card (and the filter's list) show what the relay now holds.
  const reload = async (text) => {
    try {
      await reloadClients();
      setResult({ text, tone: 'ok' });
    } catch (error) {
      setResult({ text: `${text} Could not read the clients again: ${describeError(error)}`, tone: 'error' });
    }
  };

  async function setDisabled(disabled) {
    const label = disabled ? 'Disabling' : 'Enabling';
    const { failed } = await attempt(label, () => api.updateClient(id, { disabled }), options);
    if (!failed) reload(disabled ? 'Disabled: its keys are refused (403) until it is enabled again.' : 'Enabled.');
  }
  async function issueKey() {
    const { answer, failed } = await attempt('Issuing a key', () => api.issueKey(id), options);
    if (failed) return;
    reveal({
      place: id,
      title: `New API key for ${client.name}`,
      values: [{ label: 'API key', value: answer.api_key }],
      extra: { field: 'key-id', text: `Its key id: ${answer.key_id}.` },
    });
    reload(`Issued ${answer.key_id}.`);
  }
  async function rotate(event) {
    event.preventDefault();
    const seconds = graceSeconds(grace);
    if (seconds === null)
      return setResult({ text: `The grace period is 0 to ${MAX_GRACE_HOURS} hours.`, tone: 'error' });
    const { answer, failed } = await attempt(
      'Rotating the signing secret',
      () => api.rotateSecret(id, { grace_period_seconds: seconds }),
      options,
    );
    if (failed) return;
    reveal({
      place: id,
      title: `New signing secret for ${client.name}`,
      values: [{ label: 'Signing secret', value: answer.signing_secret }],
      extra: {
        field: 'previous-expires',
        text: `The secrets that signed until now keep signing beside it until ${formatTime(answer.previous_expires_at)}.`,
      },
    });
    reload('Rotated.');
  }

  const expiring = client.signing_secrets.filter((secret) => secret.expires_at);
  return html`<article class=${`client-card${client.disabled ? ' disabled' : ''}`} data-client=${id}>
    <header>
      <h3>${client.name}</h3>
      <span class="mono">${id}</span>
      ${client.disabled && html`<span class="badge status-delivery_failed" data-field="disabled">disabled</span>`}
      ${managed && html`<span class="badge">from the environment</span>`}
    </header>
    ${
      editing
        ? html`<${EditClient}
            api=${api}
            client=${client}
            onUnauthorized=${onUnauthorized}
            onClose=${() => setEditing(false)}
            onSaved=${(text) => {
              setEditing(false);
              reload(text);
            }}
          />`
        : html`<dl class="client-facts">
            <div>
              <dt>Webhook URL prefixes</dt>
              <dd data-field="prefixes">
                ${
                  client.webhook_url_prefixes.length === 0
                    ? html`<span class="muted">any (no restriction)</span>`
                    : html`<ul class="plain">
                        ${client.webhook_url_prefixes.map((prefix) => html`<li class="mono">${prefix}</li>`)}
                      </ul>`
                }
              </dd>
            </div>
            <div>
              <dt>Fair share</dt>
              <dd data-field="settings">${settingsLine(client)}</dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>${formatTime(client.created_at)}</dd>
            </div>
            <div>
              <dt>Signing secrets</dt>
              <dd data-field="secrets">
                ${
                  managed
                    ? 'from the environment'
                    : `${countOf(client.signing_secrets.length, 'secret')} signing${expiring.length ? `; the oldest stop at ${formatTime(expiring[expiring.length - 1].expires_at)}` : ''}`
                }
              </dd>
            </div>
          </dl>`
    }
    <h4>API keys</h4>
    <${KeyTable} api=${api} client=${client} onUnauthorized=${onUnauthorized} setResult=${setResult} reload=${reload} />
    <div class="toolbar client-actions">
      ${!editing && html`<button type="button" class="secondary" onClick=${() => setEditing(true)}>Edit</button>`}
      ${
        client.disabled
          ? html`<button type="button" class="secondary" onClick=${() => setDisabled(false)}>Enable</button>`
          : html`<${Confirm}
              label="Disable"
              ariaLabel=${`Disable ${id}`}
              question="Its keys are refused (403) until it is enabled again; its accepted jobs still finish."
              yes="Yes, disable it"
              onYes=${() => setDisabled(true)}
            />`
      }
      <button type="button" disabled=${managed} title=${managed ? ENVIRONMENT_NOTE : undefined} onClick=${issueKey}>
        Issue a new API key
      </button>
    </div>
    <form class="toolbar rotate" onSubmit=${rotate}>
      <div class="field">
        <label for=${`grace-${id}`}>Grace period (hours)</label>
        <input
          id=${`grace-${id}`}
          class="short"
          inputmode="decimal"
          value=${grace}
          disabled=${managed}
          onInput=${(e) => setGrace(e.target.value)}
        />
      </div>
      <button type="submit" disabled=${managed} title=${managed ? ENVIRONMENT_NOTE : undefined}>
        Rotate signing secret
      </button>
    </form>
    ${managed && html`<p class="hint" data-field="managed">${ENVIRONMENT_NOTE}</p>`}
    ${result && html`<p class=${`result ${result.tone}`} role="status" data-field="result">${result.text}</p>`}
    ${revealed && html`<${Revealed} revealed=${revealed} onDismiss=${dismiss} />`}
  </article>`;
}

/**
 * The web services the relay serves (admin keys only): create one, issue and revoke its API keys, rotate its
 * signing secret, disable it, rename it, set its fair share (weight and limits). A new key or secret is shown once, in this page's memory only.
 */
export function ClientsPage({ api, role, clients, reloadClients, onUnauthorized }) {
  const [revealed, setRevealed] = useState(null);
  const [problem, setProblem] = useState(null);
  if (role !== 'admin')
    return html`<section aria-labelledby="clients-title">
      <h2 id="clients-title">Clients</h2>
      <p class="notice error" role="alert" data-needs-admin>
        ${
          role === 'open'
            ? 'Managing clients needs an admin key: this relay is open (no key of any kind is configured). Set RELAY_ADMIN_KEYS (and RELAY_ENCRYPTION_KEY) and open the console with an admin key.'
            : "Managing clients needs an admin key (one of RELAY_ADMIN_KEYS). The key in use is a client's key: it sees that client's jobs only."
        }
      </p>
    </section>`;
  const refresh = async () => {
    setProblem(null);
    try {
      await reloadClients();
    } catch (error) {
      if (error.status === 401) return onUnauthorized();
      setProblem(describeError(error));
    }
  };
  const onCreated = (created) => {
    setRevealed({
      place: 'create',
      title: `Created ${created.name} (${created.client_id})`,
      values: [
        { label: 'API key', value: created.api_key },
        { label: 'Signing secret', value: created.signing_secret },
      ],
      extra: { field: 'created-id', text: `Its client id: ${created.client_id}.` },
    });
    refresh();
  };
  const dismiss = () => setRevealed(null);
  return html`<section aria-labelledby="clients-title" class="clients">
    <h2 id="clients-title">Clients</h2>
    <p class="hint">
      Each web service calling the relay is a client, with its own API keys, signing secret and jobs, and its fair share
      of the LLM: a weight against the other clients with jobs waiting, and limits of its own (0: none). Keys and
      secrets are shown once, when they are made.
    </p>
    <${CreateClient} api=${api} onUnauthorized=${onUnauthorized} onCreated=${onCreated} />
    ${revealed && revealed.place === 'create' && html`<${Revealed} revealed=${revealed} onDismiss=${dismiss} />`}
    <div class="toolbar">
      <h3 id="clients-list-title">${countOf(clients.length, 'client')}</h3>
      <button type="button" class="secondary" onClick=${refresh}>Refresh</button>
    </div>
    ${problem && html`<p class="notice error" role="alert">Could not load the clients: ${problem}</p>`}
    <div class="client-list" aria-labelledby="clients-list-title">
      ${clients.map(
        (client) =>
          html`<${ClientCard}
            key=${client.client_id}
            api=${api}
            client=${client}
            onUnauthorized=${onUnauthorized}
            reloadClients=${reloadClients}
            revealed=${revealed && revealed.place === client.client_id ? revealed : null}
            reveal=${setRevealed}
            dismiss=${dismiss}
          />`,
      )}
    </div>
  </section>`;
}
