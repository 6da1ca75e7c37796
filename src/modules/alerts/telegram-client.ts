import { Injectable } from '@nestjs/common';
import { AlertsConfig } from '../../config/config.classes.js';

/** What one sendMessage came to: sent; worth another try (network, 429, 5xx); or refused for good. */
export type SendOutcome =
  { kind: 'sent' } | { kind: 'retry'; reason: string } | { kind: 'refused'; reason: string };

/** The Bot API's answer body, as much of it as is read here. */
interface BotAnswer {
  ok?: boolean;
  description?: string;
}

/** A Bot API call gives up after this long. */
const TIMEOUT_MS = 10_000;
/** Telegram's longest message text. */
export const MAX_MESSAGE_LENGTH = 4_096;

/**
 * The Telegram Bot API's sendMessage (TELEGRAM_API_URL, TELEGRAM_BOT_TOKEN). The token is in
 * the URL's path, so neither the URL nor a fetch error's text (which may quote it) is ever
 * part of an outcome: reasons are built here from the status and Telegram's description.
 */
@Injectable()
export class TelegramClient {
  constructor(private readonly config: AlertsConfig) {}

  get isConfigured(): boolean {
    return this.config.telegramBotToken !== null;
  }

  async sendMessage(chatId: string, text: string): Promise<SendOutcome> {
    const token = this.config.telegramBotToken;
    if (token === null) return { kind: 'refused', reason: 'TELEGRAM_BOT_TOKEN is not set' };
    let response: Response;
    try {
      response = await fetch(`${this.config.telegramApiUrl}/bot${token}/sendMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          chat_id: chatId,
          text: text.slice(0, MAX_MESSAGE_LENGTH),
          link_preview_options: { is_disabled: true },
        }),
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      return { kind: 'retry', reason: timedOut ? 'Bot API timed out' : 'Bot API unreachable' };
    }
    const answer: BotAnswer = await response.json().then(
      (body: unknown) => (typeof body === 'object' && body !== null ? (body as BotAnswer) : {}),
      () => ({}),
    );
    const described = `Bot API answered ${response.status}${
      typeof answer.description === 'string' ? `: ${answer.description.slice(0, 200)}` : ''
    }`;
    if (response.ok && answer.ok !== false) return { kind: 'sent' };
    // 429 (Telegram's flood control) and server errors pass; a 4xx (chat not found, bot
    // blocked by the user, bad token) stays the same however often it is sent again.
    if (response.status === 429 || response.status >= 500)
      return { kind: 'retry', reason: described };
    return { kind: 'refused', reason: described };
  }
}
