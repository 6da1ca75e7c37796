import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { clip } from '../../common/app-error.js';
import { WebhookConfig } from '../../config/config.classes.js';
import {
  type DeliveryTarget,
  type WebhookDeliveryJob,
  WebhookDispatchRepository,
} from './webhook-dispatch.repository.js';
import { wireEventId } from './webhook-events.js';
import { type WebhookAgents, postOnce, webhookAgents } from './webhook-http.js';
import { WebhookSecretBox } from './webhook-secret-box.js';
import { signWebhookWithAll } from './webhook-signature.js';
import { guardedLookup, parseWebhookUrl } from './webhook-url-guard.js';
import { DELIVERY_ERROR_MAX_LENGTH } from './webhooks.dto.js';

/**
 * What one attempt came to: `delivered` (2xx), `skipped` (the endpoint or event is gone, or
 * the endpoint is off: nothing to retry), `gone` (410: the endpoint is now disabled), or
 * `failed` (anything else: the job is retried on the schedule).
 */
export type AttemptOutcome = 'delivered' | 'skipped' | 'gone' | 'failed';

/**
 * Delivers one event to one endpoint, once: the body `{id, type, created_at, data}` signed per
 * Standard Webhooks (webhook-id is the event's id, the same on every attempt), POSTed with the
 * SSRF guard on each new connection, the attempt recorded whatever happens.
 */
@Injectable()
export class WebhookDeliverer implements OnModuleDestroy {
  private readonly logger = new Logger('WebhookDeliverer');
  /** Kept-alive connections, each opened through the SSRF-guarded lookup. */
  private readonly agents: WebhookAgents;

  constructor(
    private readonly dispatch: WebhookDispatchRepository,
    private readonly secrets: WebhookSecretBox,
    private readonly config: WebhookConfig,
  ) {
    this.agents = webhookAgents(guardedLookup(config.allowPrivateUrls));
  }

  onModuleDestroy(): void {
    this.agents.destroy();
  }

  /** The previous secret while it still signs alongside the current one (after a rotation). */
  private overlapping(target: DeliveryTarget): string[] {
    const { previousSecretSealed: sealed, previousSecretExpiresAt: until } = target;
    if (sealed === null || until === null || until.getTime() <= Date.now()) return [];
    const previous = this.secrets.open(sealed, target.webhookId);
    return previous === null ? [] : [previous];
  }

  async attempt(job: WebhookDeliveryJob): Promise<AttemptOutcome> {
    const scope = { organizationId: job.organizationId };
    const target = await this.dispatch.target(job);
    if (target === null) return 'skipped';
    const secret = this.secrets.open(target.secretSealed, target.webhookId);
    const previous = this.overlapping(target);
    if (secret === null) {
      // Not the receiver's fault, and not one a retry mends: say so where operators look.
      this.logger.error({
        msg: 'webhook secret does not open with the configured keys',
        webhook: target.webhookId,
      });
      return 'skipped';
    }
    const id = wireEventId(target.eventId);
    const body = JSON.stringify({
      id,
      type: target.eventType,
      created_at: target.createdAt.toISOString(),
      data: target.payload,
    });
    const record = {
      organizationId: job.organizationId,
      webhookId: target.webhookId,
      eventId: target.eventId,
      eventType: target.eventType,
    };
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const allowPrivate = this.config.allowPrivateUrls;
      const { url } = parseWebhookUrl(target.url, allowPrivate);
      const result = await postOnce(url, body, {
        headers: { ...signWebhookWithAll([secret, ...previous], id, new Date(), body) },
        timeoutMs: this.config.deliveryTimeoutMs,
        agents: this.agents,
      });
      const ok = result.status >= 200 && result.status < 300;
      await this.dispatch.recordAttempt({
        ...record,
        status: ok ? 'succeeded' : 'failed',
        responseStatus: result.status,
        durationMs: elapsed(),
        error: ok ? null : `HTTP ${result.status}`,
        responseBody: result.body,
      });
      if (ok) return 'delivered';
      if (result.status === 410) {
        await this.dispatch.disable(scope, target.webhookId, 'gone');
        return 'gone';
      }
      return 'failed';
    } catch (error) {
      await this.dispatch.recordAttempt({
        ...record,
        status: 'failed',
        responseStatus: null,
        durationMs: elapsed(),
        error: clip(
          error instanceof Error ? error.message : String(error),
          DELIVERY_ERROR_MAX_LENGTH,
        ),
        responseBody: null,
      });
      return 'failed';
    }
  }
}
