import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module.js';
import { UsersModule } from '../users/users.module.js';
import { ExplainController } from './explain.controller.js';
import { ExplainService } from './explain.service.js';
import { RateLimitModule } from './rate-limit.module.js';

/** /rate-limits/explain: reads keys and users, so it sits above the keys module. */
@Module({
  imports: [RateLimitModule, KeysModule, UsersModule],
  controllers: [ExplainController],
  providers: [ExplainService],
})
export class ExplainModule {}
