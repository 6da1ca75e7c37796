import * as common from '@nestjs/common';
import * as core from '@nestjs/core';

/** The ESM instances that esm-bridge.transformer.cjs hands to CommonJS packages. */
(globalThis as { __esmBridge?: Record<string, unknown> }).__esmBridge = {
  '@nestjs/common': common,
  '@nestjs/core': core,
};
