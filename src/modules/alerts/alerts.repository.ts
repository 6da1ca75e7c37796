import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Someone an alert goes to: a member of the organization with a Telegram chat. */
export interface AlertRecipient {
  userId: string;
  chatId: string;
}

/**
 * What a new-issue alert reads: the organization's members who gave a telegram_chat_id, and
 * the project's name. Read-only, across the users and projects modules' tables: the worker's
 * alerts need no other part of those modules.
 */
@Injectable()
export class AlertsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async recipients(organizationId: string): Promise<AlertRecipient[]> {
    const rows = await this.dataSource.query<{ user_id: string; chat_id: string }[]>(
      `SELECT u.id AS user_id, u.telegram_chat_id AS chat_id
       FROM memberships m JOIN users u ON u.id = m.user_id
       WHERE m.organization_id = $1 AND u.telegram_chat_id IS NOT NULL
       ORDER BY u.id`,
      [organizationId],
    );
    return rows.map((row) => ({ userId: row.user_id, chatId: row.chat_id }));
  }

  /** The project's name, or null when it is gone (deleted since the event came in). */
  async projectName(organizationId: string, projectId: number): Promise<string | null> {
    const [row] = await this.dataSource.query<{ name: string }[]>(
      'SELECT name FROM projects WHERE organization_id = $1 AND id = $2',
      [organizationId, projectId],
    );
    return row?.name ?? null;
  }
}
