import { Injectable } from '@nestjs/common';
import { SealedRecords } from '../../common/sealed-record.js';
import { WebhookConfig } from '../../config/config.classes.js';

/**
 * Endpoint secrets at rest: AES-256-GCM (SealedRecords) under a key derived from
 * WEBHOOK_SECRETS_KEY (or JWT_SECRET), each bound to its endpoint's id so a sealed secret
 * copied to another row does not open. The first key seals; every configured key opens.
 */
@Injectable()
export class WebhookSecretBox {
  private readonly boxes: SealedRecords[];

  constructor(config: WebhookConfig) {
    this.boxes = config.secretsKeys.map((key) => new SealedRecords(key, 'webhook secrets'));
  }

  seal(secret: string, webhookId: string): string {
    const [box] = this.boxes;
    if (box === undefined) throw new Error('no webhook secrets key configured');
    return box.seal(secret, `webhook:${webhookId}`);
  }

  /** The secret, or null when no configured key opens it (the key changed). */
  open(sealed: string, webhookId: string): string | null {
    for (const box of this.boxes) {
      const secret = box.open(sealed, `webhook:${webhookId}`);
      if (secret !== null) return secret;
    }
    return null;
  }
}
