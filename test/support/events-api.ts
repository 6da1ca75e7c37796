import type { components } from '../../clients/typescript/src/schema.generated.js';

/** The shapes GET /events, /events/{id} and /projects/{id}/issues answer, as documented. */
export type EventBody = components['schemas']['EventResponse'];
export type EventDetail = components['schemas']['EventDetailResponse'];
export type IssueBody = components['schemas']['IssueResponse'];
