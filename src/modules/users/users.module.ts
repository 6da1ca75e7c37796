import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PlatformAdminsRepository } from './platform-admins.repository.js';
import { PlatformAdminsService } from './platform-admins.service.js';
import { User } from './user.entity.js';
import { UsersController } from './users.controller.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([User])],
  controllers: [UsersController],
  providers: [UsersService, UsersRepository, PlatformAdminsService, PlatformAdminsRepository],
  exports: [UsersService, PlatformAdminsService],
})
export class UsersModule {}
