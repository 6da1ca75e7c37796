import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { AppConfig, TelegramConfig } from '../../config/config.classes.js';
import type { JobName } from '../../queues/jobs.js';

/** A new issue to alert its organization's members about. */
export interface IssueAlertJob {
  issueId: string;
  /** Chat ids already sent to by an earlier attempt of this job (a retry skips them). */
  sent?: string[];
}

/** One alert per issue per hour: the job id is the issue's, kept this long after it is done. */
export const ALERT_DEDUP_SECONDS = 3600;
/** Telegram's limit for a message's text is 4096 characters. */
const MESSAGE_MAX_LENGTH = 4000;
const SEND_TIMEOUT_MS = 10_000;

interface AlertSubject {
  title: string;
  level: string | null;
  project_id: number;
  project_name: string;
  event_id: string | null;
}

/**
 * New-issue alerts (API.md, Envelopes: Alerts): the events step enqueues one `issue.alert` job
 * per new issue after its transaction commits (never blocking ingestion); the notifications
 * processor sends it to every member of the organization who has a telegram_chat_id, with
 * BullMQ's retries when the Bot API fails. The job id is the issue's, kept an hour after it
 * completes, so an issue alerts at most once an hour.
 */
@Injectable()
export class IssueAlerts {
  private readonly logger = new Logger('IssueAlerts');

  constructor(
    private readonly dataSource: DataSource,
    private readonly telegram: TelegramConfig,
    private readonly app: AppConfig,
    @InjectQueue('notifications') private readonly queue: Queue,
  ) {}

  /** Enqueues the alerts of new issues; a failure is logged, never thrown (alerts are best effort). */
  async enqueue(issueIds: string[]): Promise<void> {
    if (this.telegram.botToken === null || issueIds.length === 0) return;
    const name: JobName<'notifications'> = 'issue.alert';
    try {
      await this.queue.addBulk(
        issueIds.map((issueId) => ({
          name,
          data: { issueId } satisfies IssueAlertJob,
          opts: {
            jobId: `issue-alert-${issueId}`,
            removeOnComplete: { age: ALERT_DEDUP_SECONDS },
          },
        })),
      );
    } catch (error) {
      this.logger.warn(`issue alerts not enqueued: ${(error as Error).message}`);
    }
  }

  /**
   * Sends an issue's alert to each member's chat not yet sent to; throws (for BullMQ to retry)
   * when any send failed, after recording the chats that succeeded in `job.sent`.
   */
  async send(job: IssueAlertJob, recordSent: (sent: string[]) => Promise<void>): Promise<number> {
    const token = this.telegram.botToken;
    if (token === null) return 0;
    const [subject] = await this.dataSource.query<AlertSubject[]>(
      `SELECT i.title, i.level, i.project_id, p.name AS project_name,
         (SELECT e.id FROM events e WHERE e.issue_id = i.id ORDER BY e.received_at LIMIT 1) AS event_id
       FROM event_issues i JOIN projects p ON p.id = i.project_id WHERE i.id = $1`,
      [job.issueId],
    );
    if (subject === undefined) return 0;
    const chats = await this.dataSource.query<{ chat_id: string }[]>(
      `SELECT DISTINCT u.telegram_chat_id AS chat_id
       FROM event_issues i JOIN memberships m ON m.organization_id = i.organization_id
       JOIN users u ON u.id = m.user_id
       WHERE i.id = $1 AND u.telegram_chat_id IS NOT NULL ORDER BY 1`,
      [job.issueId],
    );
    const sent = new Set(job.sent ?? []);
    const text = this.messageOf(subject);
    let failed = 0;
    for (const { chat_id: chatId } of chats) {
      if (sent.has(chatId)) continue;
      if (await this.sendMessage(token, chatId, text)) sent.add(chatId);
      else failed += 1;
    }
    await recordSent([...sent]);
    if (failed > 0)
      throw new Error(`telegram alert of issue ${job.issueId}: ${failed} chats failed`);
    return sent.size;
  }

  private messageOf(subject: AlertSubject): string {
    const link =
      subject.event_id === null
        ? `${this.app.publicUrl}/api/v1/projects/${subject.project_id}/issues`
        : `${this.app.publicUrl}/api/v1/events/${subject.event_id}`;
    const text = [
      `New issue in ${subject.project_name} [${subject.level ?? 'error'}]`,
      subject.title,
      link,
    ].join('\n');
    return text.length <= MESSAGE_MAX_LENGTH ? text : `${text.slice(0, MESSAGE_MAX_LENGTH)}…`;
  }

  /** Bot API sendMessage; false on a non-2xx or a network error (logged without the URL: it holds the token). */
  private async sendMessage(token: string, chatId: string, text: string): Promise<boolean> {
    try {
      const response = await fetch(`${this.telegram.apiUrl}/bot${token}/sendMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chat_id: chatId, text, disable_web_page_preview: true }),
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
      await response.arrayBuffer();
      if (response.ok) return true;
      this.logger.warn(`telegram sendMessage answered ${response.status}`);
    } catch (error) {
      this.logger.warn(`telegram sendMessage failed: ${(error as Error).name}`);
    }
    return false;
  }
}
