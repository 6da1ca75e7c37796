import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiVersion } from './api-version.entity.js';
import { VersionGuard } from './version.guard.js';
import { VersionStore } from './version-store.js';
import { VersionsController } from './versions.controller.js';
import { VersionsRepository } from './versions.repository.js';
import { VersionsService } from './versions.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([ApiVersion])],
  controllers: [VersionsController],
  providers: [VersionsService, VersionsRepository, VersionStore, VersionGuard],
  exports: [VersionGuard],
})
export class VersionsModule {}
