import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AnalyticsModule } from '../analytics/analytics.module.js';
import { QuotaModule } from '../quota/quota.module.js';
import { RateLimitModule } from '../rate-limit/rate-limit.module.js';
import { ApiKeyAuthenticator } from './api-key-authenticator.js';
import { ApiKey } from './api-key.entity.js';
import { CredentialFailures } from './credential-failures.js';
import { KeyCache } from './key-cache.js';
import { KnownKeyHashes } from './known-key-hashes.js';
import { KeysController } from './keys.controller.js';
import { KeysRepository } from './keys.repository.js';
import { KeyVerifier } from './key-verifier.js';
import { KeysService } from './keys.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([ApiKey]), RateLimitModule, QuotaModule, AnalyticsModule],
  controllers: [KeysController],
  providers: [
    KeysService,
    KeysRepository,
    KeyCache,
    KnownKeyHashes,
    CredentialFailures,
    ApiKeyAuthenticator,
    KeyVerifier,
  ],
  exports: [KeysService, ApiKeyAuthenticator, CredentialFailures],
})
export class KeysModule {}
