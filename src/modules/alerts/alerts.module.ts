import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AlertsProcessor } from './alerts.processor.js';
import { AlertsRepository } from './alerts.repository.js';
import { IssueAlerts } from './issue-alerts.js';
import { TelegramClient } from './telegram-client.js';

/** The worker's new-issue alerts: IssueAlerts for the events step, the `notifications` queue. */
@Module({
  imports: [BullModule.registerQueue({ name: 'notifications' })],
  providers: [AlertsRepository, TelegramClient, IssueAlerts, AlertsProcessor],
  exports: [IssueAlerts],
})
export class AlertsModule {}
