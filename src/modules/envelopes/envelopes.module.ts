import { Module } from '@nestjs/common';
import { ProjectsModule } from '../projects/projects.module.js';
import { LimiterModule } from '../rate-limit/limiter.module.js';
import { EnvelopesController } from './envelopes.controller.js';
import { EnvelopesRepository } from './envelopes.repository.js';
import { EnvelopesService } from './envelopes.service.js';
import { IngestLimiter } from './ingest-limiter.js';

/** Sentry envelope ingestion: the api's side, up to the envelope stored and queued. */
@Module({
  imports: [ProjectsModule, LimiterModule],
  controllers: [EnvelopesController],
  providers: [EnvelopesService, EnvelopesRepository, IngestLimiter],
})
export class EnvelopesModule {}
