import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CommonModule } from './common/common.module.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { ApiIndexModule } from './modules/api-index/api-index.module.js';
import { AnalyticsModule } from './modules/analytics/analytics.module.js';
import { AuditModule } from './modules/audit/audit.module.js';
import { AuthGuard } from './modules/auth/auth.guard.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { EnvelopesModule } from './modules/envelopes/envelopes.module.js';
import { KeysModule } from './modules/keys/keys.module.js';
import { PermissionsGuard } from './modules/auth/permissions.guard.js';
import { EventsModule } from './modules/events/events.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { MetricsModule } from './modules/metrics/metrics.module.js';
import { OrganizationsModule } from './modules/organizations/organizations.module.js';
import { ProjectsModule } from './modules/projects/projects.module.js';
import { QuotaModule } from './modules/quota/quota.module.js';
import { ExplainModule } from './modules/rate-limit/explain.module.js';
import { RateLimitGuard } from './modules/rate-limit/rate-limit.guard.js';
import { RateLimitModule } from './modules/rate-limit/rate-limit.module.js';
import { UsageModule } from './modules/usage/usage.module.js';
import { UsersModule } from './modules/users/users.module.js';
import { VersionGuard } from './modules/versions/version.guard.js';
import { VersionsModule } from './modules/versions/versions.module.js';
import { WebhooksModule } from './modules/webhooks/webhooks.module.js';
import { QueuesModule } from './queues/queues.module.js';
import { RedisModule } from './redis/redis.module.js';

/**
 * The api process: HTTP controllers over the shared feature services. The guard chain is
 * listed here, in the order ARCHITECTURE.md gives it: who is calling, whether the API
 * version they call still answers, how much they may still call, then what they may do.
 */
@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    RedisModule,
    QueuesModule,
    CommonModule,
    MetricsModule,
    HealthModule,
    ApiIndexModule,
    AuthModule,
    UsersModule,
    OrganizationsModule,
    ProjectsModule,
    AuditModule,
    KeysModule,
    RateLimitModule,
    QuotaModule,
    ExplainModule,
    VersionsModule,
    UsageModule,
    AnalyticsModule,
    WebhooksModule,
    EnvelopesModule,
    EventsModule,
  ],
  providers: [
    { provide: APP_GUARD, useExisting: AuthGuard },
    { provide: APP_GUARD, useExisting: VersionGuard },
    { provide: APP_GUARD, useExisting: RateLimitGuard },
    { provide: APP_GUARD, useExisting: PermissionsGuard },
  ],
})
export class ApiModule {}
