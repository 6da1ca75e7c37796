import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthConfig } from '../../config/config.classes.js';
import { KeysModule } from '../keys/keys.module.js';
import { MembershipCacheModule } from '../organizations/membership-cache.module.js';
import { OrganizationsModule } from '../organizations/organizations.module.js';
import { UsersModule } from '../users/users.module.js';
import { AuthThrottlerGuard, LoginAttempts, authThrottlerOptions } from './auth-throttler.guard.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { AuthRepository } from './auth.repository.js';
import { AuthService } from './auth.service.js';
import { BlockedCredentials } from './blocked-credentials.js';
import { JwtKeys } from './jwt-keys.js';
import { JwtStrategy } from './jwt.strategy.js';
import { PermissionsGuard } from './permissions.guard.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';
import { RefreshToken } from './refresh-token.entity.js';
import { REDIS, type RedisClient } from '../../redis/redis-client.js';

@Module({
  imports: [
    UsersModule,
    KeysModule,
    MembershipCacheModule,
    OrganizationsModule,
    PassportModule,
    JwtModule.register({}),
    TypeOrmModule.forFeature([RefreshToken]),
    ThrottlerModule.forRootAsync({
      inject: [AuthConfig, REDIS],
      useFactory: (config: AuthConfig, redis: RedisClient) => ({
        ...authThrottlerOptions(config),
        storage: new RedisThrottlerStorage(redis),
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [
    AuthService,
    AuthRepository,
    JwtKeys,
    JwtStrategy,
    AuthGuard,
    BlockedCredentials,
    PermissionsGuard,
    AuthThrottlerGuard,
    LoginAttempts,
  ],
  exports: [AuthGuard, BlockedCredentials, PermissionsGuard],
})
export class AuthModule {}
