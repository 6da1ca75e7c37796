import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MembershipCacheModule } from '../organizations/membership-cache.module.js';
import { PasswordReset } from './password-reset.entity.js';
import { PlatformAdminsRepository } from './platform-admins.repository.js';
import { PlatformAdminsService } from './platform-admins.service.js';
import { User } from './user.entity.js';
import { UsersController } from './users.controller.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([User, PasswordReset]), MembershipCacheModule],
  controllers: [UsersController],
  providers: [UsersService, UsersRepository, PlatformAdminsService, PlatformAdminsRepository],
  exports: [UsersService, PlatformAdminsService],
})
export class UsersModule {}
