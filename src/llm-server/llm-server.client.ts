import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type RelayConfig } from '../config/config';
import { PublicUrls } from '../config/public-urls';
import type { Job } from '../jobs/job.entity';
import { AgentPair, destroyAgents, trustedAgents } from '../scheduler/http-agents';
import { OutboundResponse, postJson } from '../scheduler/outbound-http';
import { LlmFleet } from './llm-fleet';
import { headersFor, type ServerState } from './server-state';

export { SIMULATED_LLM_PREFIX } from './llm-fleet';

/** Sends review jobs and cancel notices to the LLM servers. */
@Injectable()
export class LlmServerClient {
  private readonly agents: AgentPair = trustedAgents();

  constructor(
    @Inject(CONFIG) private readonly config: RelayConfig,
    private readonly urls: PublicUrls,
    readonly fleet: LlmFleet,
  ) {}

  /** A server's forward URL without query, as shown in the job's timeline. */
  target(server: ServerState): string {
    return `${this.fleet.baseUrl(server)}${server.config.forwardPath}`;
  }

  /** Where a cancellation goes on `server` (its cancel path, `{job_id}` filled in); null when it takes none. */
  cancelTarget(server: ServerState, jobId: string): string | null {
    const path = server.config.cancelPath;
    if (path === null) return null;
    return `${this.fleet.baseUrl(server)}${path.replaceAll('{job_id}', encodeURIComponent(jobId))}`;
  }

  /** Tells the LLM server at `target` (see cancelTarget) to stop working on a cancelled job. */
  cancel(job: Job, server: ServerState, target: string): Promise<OutboundResponse> {
    return postJson({
      url: target,
      body: JSON.stringify({ job_id: job.id, submission_id: job.submissionId }),
      headers: headersFor(server),
      deadlineMs: this.config.outboundTimeoutMs,
      agents: this.agents,
    });
  }

  async forward(job: Job, callbackToken: string, server: ServerState): Promise<OutboundResponse> {
    const body = {
      job_id: job.id,
      submission_id: job.submissionId,
      student_id: job.studentId,
      file_refs: job.fileRefs,
      metadata: job.metadata ?? {},
      callback_url: this.urls.callbackUrl(job.id, callbackToken),
      progress_url: this.urls.progressUrl(job.id, callbackToken),
      callback_token: callbackToken,
    };
    server.sending();
    return postJson({
      url: this.target(server),
      body: JSON.stringify(body),
      headers: headersFor(server),
      deadlineMs: this.config.outboundTimeoutMs,
      agents: this.agents,
    });
  }

  /** Ends every connection, cutting off the requests still in flight (the scheduler's cutOff, after its drain). */
  cutOff(): void {
    destroyAgents(this.agents);
  }
}
