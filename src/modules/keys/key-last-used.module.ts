import { Module } from '@nestjs/common';
import { KeyLastUsed } from './key-last-used.js';

/** The worker's one use of api_keys: writing last_used_at from usage records. */
@Module({ providers: [KeyLastUsed], exports: [KeyLastUsed] })
export class KeyLastUsedModule {}
