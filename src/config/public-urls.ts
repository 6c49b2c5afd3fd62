import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { CONFIG, type RelayConfig } from './config';

/**
 * Addresses of this process as others should call it. Without PUBLIC_BASE_URL they follow the port actually bound,
 * so `PORT=0` (tests, several local copies) still yields working callback URLs.
 */
@Injectable()
export class PublicUrls {
  constructor(
    @Inject(CONFIG) private readonly config: RelayConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  publicBaseUrl(): string {
    return this.config.publicBaseUrl ?? `http://localhost:${this.boundPort()}`;
  }

  /** Loopback address of this process, for the built-in simulated LLM. */
  loopbackBaseUrl(): string {
    return `http://127.0.0.1:${this.boundPort()}`;
  }

  /** Where the LLM server reports progress on a job (the same credential as its callback). */
  progressUrl(jobId: string, token: string): string {
    return `${this.publicBaseUrl()}/v1/llm/progress/${encodeURIComponent(jobId)}?token=${encodeURIComponent(token)}`;
  }

  callbackUrl(jobId: string, token: string): string {
    return `${this.publicBaseUrl()}/v1/llm/callback/${encodeURIComponent(jobId)}?token=${encodeURIComponent(token)}`;
  }

  private boundPort(): number {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as
      { address(): AddressInfo | string | null } | undefined;
    const address = server?.address();
    return address && typeof address === 'object' ? address.port : this.config.port;
  }
}
