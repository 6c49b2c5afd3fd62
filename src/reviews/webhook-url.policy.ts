import { Inject, Injectable } from '@nestjs/common';
import { underPrefix } from '../clients/webhook-url-prefix';
import { refusedDestination } from '../common/address-policy';
import { DomainError, WebhookUrlNotAllowedError } from '../common/domain-errors';
import { CONFIG, type RelayConfig } from '../config/config';

/**
 * Intake's half of the SSRF guard (the delivery agent checks every resolved address again at connect time), and the
 * client's own webhook_url_prefixes.
 */
@Injectable()
export class WebhookUrlPolicy {
  constructor(@Inject(CONFIG) private readonly config: RelayConfig) {}

  async assertAllowed(url: string, prefixes: readonly string[]): Promise<void> {
    if (prefixes.length > 0 && !prefixes.some((prefix) => underPrefix(url, prefix))) {
      throw new DomainError(
        'webhook_url_not_allowed',
        "webhook_url is not allowed: it lies outside this client's webhook_url_prefixes",
      );
    }
    if (this.config.allowPrivateWebhookUrls) return;
    const reason = await refusedDestination(url);
    if (reason) throw new WebhookUrlNotAllowedError(reason);
  }
}
