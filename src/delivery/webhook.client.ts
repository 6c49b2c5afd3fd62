import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type RelayConfig } from '../config/config';
import type { Job } from '../jobs/job.entity';
import { AgentPair, destroyAgents, webhookAgents } from '../scheduler/http-agents';
import { OutboundResponse, postJson } from '../scheduler/outbound-http';
import { SecretBoxError } from '../clients/secret-box';
import { SigningSecrets } from '../clients/signing-secrets.service';
import { signDelivery, webhookIdFor } from './signer';

/** The body the web service receives; `error` only when `ok` is false. */
export function deliveryPayload(job: Job): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    job_id: job.id,
    submission_id: job.submissionId,
    ok: job.ok === true,
    result: job.result ?? null,
  };
  if (job.ok !== true) {
    payload.error = { code: job.errorCode ?? 'llm_error', message: job.errorMessage ?? 'The review failed' };
  }
  return payload;
}

/** Posts signed results to the web service's webhook. */
@Injectable()
export class WebhookClient {
  private readonly agents: AgentPair;

  constructor(
    @Inject(CONFIG) private readonly config: RelayConfig,
    private readonly secrets: SigningSecrets,
  ) {
    this.agents = webhookAgents(config.allowPrivateWebhookUrls);
  }

  /**
   * Signed with the job's client's secrets as they are at this moment (retries and redeliveries included). A secret
   * this replica cannot open (sealed under a RELAY_ENCRYPTION_KEY it was not given) sends nothing: the attempt fails
   * retryably, naming the reason in the job's timeline, until the replica has the key.
   */
  async deliver(job: Job): Promise<OutboundResponse> {
    const body = JSON.stringify(deliveryPayload(job));
    const timestamp = Math.floor(Date.now() / 1000);
    let secrets: string[];
    try {
      secrets = await this.secrets.current(job.clientId);
    } catch (error) {
      if (!(error instanceof SecretBoxError)) throw error;
      return {
        statusCode: null,
        retryAfter: undefined,
        error: `not sent: a signing secret is ${error.message}`,
        durationMs: 0,
      };
    }
    const headers = signDelivery(secrets, webhookIdFor(job.id), timestamp, body);
    return postJson({
      url: job.webhookUrl,
      body,
      headers: { ...headers, 'user-agent': 'llm-relay' },
      deadlineMs: this.config.outboundTimeoutMs,
      agents: this.agents,
    });
  }

  /** Ends every connection, cutting off the requests still in flight (the scheduler's cutOff, after its drain). */
  cutOff(): void {
    destroyAgents(this.agents);
  }
}
