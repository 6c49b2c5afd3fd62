import { Inject, Injectable } from '@nestjs/common';
import { refusedDestination } from '../common/address-policy';
import { WebhookUrlNotAllowedError } from '../common/domain-errors';
import { CONFIG, type RelayConfig } from '../config/config';

/** Intake's half of the SSRF guard; the delivery agent checks every resolved address again at connect time. */
@Injectable()
export class WebhookUrlPolicy {
  constructor(@Inject(CONFIG) private readonly config: RelayConfig) {}

  async assertAllowed(url: string): Promise<void> {
    if (this.config.allowPrivateWebhookUrls) return;
    const reason = await refusedDestination(url);
    if (reason) throw new WebhookUrlNotAllowedError(reason);
  }
}
