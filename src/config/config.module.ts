import { Global, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule } from '@nestjs/config';
import { CONFIG_CLASSES } from './config.classes.js';
import { validateEnv } from './env.js';

/** Validates the environment once and provides one typed class per concern to every module. */
@Global()
@Module({
  imports: [NestConfigModule.forRoot({ ignoreEnvFile: true, cache: true, validate: validateEnv })],
  providers: CONFIG_CLASSES,
  exports: CONFIG_CLASSES,
})
export class ConfigModule {}
