import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { maintenanceTransaction } from '../../database/maintenance-transaction.js';
import {
  DELETE_EXPIRED_INVITATIONS,
  DELETE_SPENT_PASSWORD_RESETS,
} from './invitations-resets-retention.sql.js';

export interface InvitationsResetsPurgeResult {
  deletedInvitations: number;
  deletedPasswordResets: number;
}

/** Deletes expired invitations and used or expired password resets (see the SQL's comment). */
@Injectable()
export class InvitationsResetsRetention {
  private readonly logger = new Logger('InvitationsResetsRetention');

  constructor(private readonly dataSource: DataSource) {}

  async purge(now: Date = new Date()): Promise<InvitationsResetsPurgeResult> {
    const result = await maintenanceTransaction(this.dataSource, async (manager) => {
      const [, deletedInvitations] = await manager.query<[unknown, number]>(
        DELETE_EXPIRED_INVITATIONS,
        [now],
      );
      const [, deletedPasswordResets] = await manager.query<[unknown, number]>(
        DELETE_SPENT_PASSWORD_RESETS,
        [now],
      );
      return { deletedInvitations, deletedPasswordResets };
    });
    this.logger.log({ msg: 'invitations and password resets retention', ...result });
    return result;
  }
}
