import * as http from 'node:http';
import * as https from 'node:https';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import { EXTRA_DENIED_CIDRS } from '../common/address-policy';

export interface AgentPair {
  http: http.Agent;
  https: https.Agent;
}

const KEEP_ALIVE = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 60_000 };

/** Keep-alive agents for the operator-configured LLM server. */
export function trustedAgents(): AgentPair {
  return { http: new http.Agent(KEEP_ALIVE), https: new https.Agent(KEEP_ALIVE) };
}

/**
 * Agents for caller-supplied webhook URLs. Unless private destinations are allowed, every resolved address is checked
 * at connect time (DNS may change after intake), with the same extra blocks as the intake check.
 */
export function webhookAgents(allowPrivate: boolean): AgentPair {
  if (allowPrivate) return trustedAgents();
  const filter = { allowPrivateIPAddress: false, allowMetaIPAddress: false, denyIPAddressList: EXTRA_DENIED_CIDRS };
  return {
    http: new RequestFilteringHttpAgent({ ...KEEP_ALIVE, ...filter }),
    https: new RequestFilteringHttpsAgent({ ...KEEP_ALIVE, ...filter }),
  };
}

export function destroyAgents(agents: AgentPair): void {
  agents.http.destroy();
  agents.https.destroy();
}
