import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyAuthenticator } from './api-key-authenticator.js';
import { ApiKey } from './api-key.entity.js';
import { KeyCache } from './key-cache.js';
import { KeysController } from './keys.controller.js';
import { KeysRepository } from './keys.repository.js';
import { KeysService } from './keys.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([ApiKey])],
  controllers: [KeysController],
  providers: [KeysService, KeysRepository, KeyCache, ApiKeyAuthenticator],
  exports: [KeysService, ApiKeyAuthenticator],
})
export class KeysModule {}
