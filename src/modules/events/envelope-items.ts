import type { EnvelopeItem, ParsedEnvelope } from '../envelopes/envelope-parser.js';
import type { EnvelopeItemResponse } from './events.dto.js';
import { storable } from './event-json.js';

/** A non-JSON payload up to this size is shown base64; a larger one by its length only. */
export const BASE64_MAX_BYTES = 64 * 1024;

function decodedItem(item: EnvelopeItem): EnvelopeItemResponse {
  const base = { type: item.type, headers: storable(item.header), length: item.payload.length };
  // Attachments are files (minidumps, screenshots): their bytes are not the API's to inline.
  if (item.type === 'attachment') return { ...base, encoding: 'omitted' };
  if (item.event !== undefined) return { ...base, encoding: 'json', payload: storable(item.event) };
  try {
    const payload: unknown = JSON.parse(item.payload.toString('utf8'));
    if (payload !== null && typeof payload === 'object') {
      return { ...base, encoding: 'json', payload: storable(payload) };
    }
  } catch {
    // Not JSON: shown as bytes below.
  }
  if (item.payload.length > BASE64_MAX_BYTES) return { ...base, encoding: 'omitted' };
  return { ...base, encoding: 'base64', payload: item.payload.toString('base64') };
}

/**
 * An envelope's items for `GET /events/{id}`: headers as sent; payloads as JSON when they
 * are a JSON object or array, else base64 up to 64 KB; attachments and larger payloads by length only.
 */
export function decodedItems(envelope: ParsedEnvelope): EnvelopeItemResponse[] {
  return envelope.items.map(decodedItem);
}
