import { AppError } from '../../common/app-error.js';

/** Why an envelope was refused: 400 malformed, 413 over a limit, 415 an unknown encoding. */
export type EnvelopeStatus = 400 | 413 | 415;

const CODE_OF = {
  400: 'VALIDATION_ERROR',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
} as const;

/**
 * The only error the envelope parser and the body decoder reject with. An AppError, so the
 * global filter renders it in the contract's error format; `reason` is a short stable phrase
 * ("item length past the end") for logs, tests and client reports.
 */
export class EnvelopeError extends AppError {
  override readonly status: EnvelopeStatus;

  constructor(
    status: EnvelopeStatus,
    readonly reason: string,
  ) {
    super(CODE_OF[status], `Invalid envelope: ${reason}`, { reason });
    this.name = 'EnvelopeError';
    this.status = status;
  }
}

export const malformed = (reason: string) => new EnvelopeError(400, reason);
export const tooLarge = (reason: string) => new EnvelopeError(413, reason);
/** The body as sent is over `maxCompressedBytes`: by its Content-Length, or while it streams. */
export const bodyTooLarge = () => tooLarge('body larger than the limit');

/** Sentry's limits (API.md, Envelopes; issue 13). Every one is enforced while reading. */
export interface EnvelopeLimits {
  /** Bytes of the request body as it arrives, before decompression. */
  maxCompressedBytes: number;
  /** Bytes of the decompressed envelope. */
  maxEnvelopeBytes: number;
  /** Bytes of one event or transaction item's payload. */
  maxEventItemBytes: number;
  /**
   * Bytes of one payload sent without `length` (read up to a newline). SDKs give attachments a
   * length and send only small JSON without one; an endless line is the cheapest bomb.
   */
  maxUnsizedItemBytes: number;
  /** Bytes of the envelope header line or of one item header line. */
  maxHeaderBytes: number;
  maxItems: number;
}

const MB = 1024 * 1024;

export const DEFAULT_ENVELOPE_LIMITS: Readonly<EnvelopeLimits> = Object.freeze({
  maxCompressedBytes: 20 * MB,
  maxEnvelopeBytes: 100 * MB,
  maxEventItemBytes: 1 * MB,
  maxUnsizedItemBytes: 1 * MB,
  maxHeaderBytes: 64 * 1024,
  maxItems: 100,
});
