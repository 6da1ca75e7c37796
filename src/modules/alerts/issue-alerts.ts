import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { AppConfig } from '../../config/config.classes.js';
import type { JobData, JobName } from '../../queues/jobs.js';
import { REDIS, type RedisClient } from '../../redis/redis-client.js';
import { AlertsRepository } from './alerts.repository.js';
import { MAX_MESSAGE_LENGTH, TelegramClient } from './telegram-client.js';

/** A project's new issue (the first event of a group), as the events step reports it. */
export interface NewIssueAlert {
  organizationId: string;
  projectId: number;
  /** event_issues.id (a bigint, as text). */
  issueId: string;
  title: string;
  level: string | null;
}

/** At most one alert per issue and member in this long (API.md, Alerts). */
export const ALERT_INTERVAL_SECONDS = 3_600;

/** Thrown so BullMQ tries the job again; members already alerted are skipped then. */
export class AlertNotSent extends Error {
  constructor(reasons: string[]) {
    super(`new-issue alert not sent to ${reasons.length} member(s): ${reasons.join('; ')}`);
    this.name = 'AlertNotSent';
  }
}

export interface AlertOutcome {
  sent: number;
  /** Already alerted within the hour (a retried or repeated job). */
  skipped: number;
  /** Refused by Telegram for good (chat not found, bot blocked): not retried. */
  refused: number;
}

/** The alert's text: plain (no parse mode, so nothing in a title needs escaping). */
export function alertText(alert: NewIssueAlert, project: string, publicUrl: string): string {
  const link = `${publicUrl}/api/v1/projects/${alert.projectId}/issues`;
  const head = `New issue in ${project}${alert.level === null ? '' : ` (${alert.level})`}`;
  const room = MAX_MESSAGE_LENGTH - head.length - link.length - 2;
  const title = alert.title.length > room ? `${alert.title.slice(0, room - 1)}…` : alert.title;
  return `${head}\n${title}\n${link}`;
}

/**
 * New-issue alerts: the events step hands new issues over (`newIssues`, one job per issue on
 * the `notifications` queue, never waiting on Telegram), and the worker's processor sends
 * each (`send`) to the organization's members who have a telegram_chat_id. A member gets at
 * most one alert per issue per hour: a Redis marker is set before the message is sent and
 * removed again when the send failed, so a retried job alerts only those still waiting.
 */
@Injectable()
export class IssueAlerts {
  private readonly logger = new Logger('IssueAlerts');

  constructor(
    @InjectQueue('notifications')
    private readonly queue: Queue<JobData<'issue.alert'>, unknown, JobName<'notifications'>>,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly repository: AlertsRepository,
    private readonly telegram: TelegramClient,
    private readonly app: AppConfig,
  ) {}

  /** Queues an alert per new issue; nothing when no bot is configured. */
  async newIssues(alerts: NewIssueAlert[]): Promise<void> {
    if (!this.telegram.isConfigured || alerts.length === 0) return;
    await this.queue.addBulk(
      alerts.map((alert) => ({
        name: 'issue.alert' as const,
        data: alert,
        opts: {
          // One job per issue however often the events step reports it.
          jobId: `issue-alert-${alert.issueId}`,
          attempts: 8,
          backoff: { type: 'exponential', delay: 5_000 },
        },
      })),
    );
  }

  async send(alert: NewIssueAlert): Promise<AlertOutcome> {
    const outcome: AlertOutcome = { sent: 0, skipped: 0, refused: 0 };
    const recipients = await this.repository.recipients(alert.organizationId);
    const project = await this.repository.projectName(alert.organizationId, alert.projectId);
    if (recipients.length === 0 || project === null) return outcome;
    const text = alertText(alert, project, this.app.publicUrl);
    const failures: string[] = [];
    for (const recipient of recipients) {
      const marker = `issue-alert:{${alert.organizationId}}:${alert.issueId}:${recipient.userId}`;
      const first = await this.redis.set(marker, '1', 'EX', ALERT_INTERVAL_SECONDS, 'NX');
      if (first !== 'OK') {
        outcome.skipped += 1;
        continue;
      }
      const sent = await this.telegram.sendMessage(recipient.chatId, text);
      if (sent.kind === 'sent') {
        outcome.sent += 1;
      } else if (sent.kind === 'refused') {
        outcome.refused += 1;
        this.logger.warn({ msg: 'alert refused', issueId: alert.issueId, reason: sent.reason });
      } else {
        await this.redis.del(marker);
        failures.push(`${recipient.userId}: ${sent.reason}`);
      }
    }
    if (failures.length > 0) throw new AlertNotSent(failures);
    return outcome;
  }
}
