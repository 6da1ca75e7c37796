import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { KeysModule } from '../keys/keys.module.js';
import { QuotaModule } from '../quota/quota.module.js';
import { RateLimitModule } from '../rate-limit/rate-limit.module.js';
import { Invitation } from './invitation.entity.js';
import { MembershipCacheModule } from './membership-cache.module.js';
import { Membership } from './membership.entity.js';
import { Organization } from './organization.entity.js';
import { OrganizationsController } from './organizations.controller.js';
import { OrganizationsRepository } from './organizations.repository.js';
import { OrganizationsService } from './organizations.service.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([Organization, Membership, Invitation]),
    MembershipCacheModule,
    KeysModule,
    RateLimitModule,
    QuotaModule,
  ],
  controllers: [OrganizationsController],
  providers: [OrganizationsService, OrganizationsRepository],
  exports: [OrganizationsService],
})
export class OrganizationsModule {}
