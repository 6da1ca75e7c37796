import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The longest request id a client may send (longer ones are replaced with a UUID). */
export const REQUEST_ID_MAX_LENGTH = 128;
/** A client's request id is kept when it is a plain token, so it can be traced end to end. */
const SANE_REQUEST_ID = new RegExp(`^[A-Za-z0-9._:-]{1,${REQUEST_ID_MAX_LENGTH}}$`);

/** Fastify's `genReqId`: the client's X-Request-Id if sane, else a fresh UUID. */
export function requestIdFor(request: IncomingMessage): string {
  const sent = request.headers['x-request-id'];
  const value = Array.isArray(sent) ? sent[0] : sent;
  return value !== undefined && SANE_REQUEST_ID.test(value) ? value : randomUUID();
}
