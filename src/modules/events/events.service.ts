import { Injectable, Logger } from '@nestjs/common';
import { type Page, page } from '../../common/envelope.js';
import type { PageQuery } from '../../common/pagination.js';
import { type AuthenticatedContext, tenantOf } from '../../common/request-context.js';
import { readStoredEnvelope } from './envelope-events.js';
import { decodedItems } from './envelope-items.js';
import { asUuid } from './event-fields.js';
import { storable } from './event-json.js';
import type {
  EventDetailResponse,
  EventResponse,
  EventsQuery,
  IssueResponse,
} from './events.dto.js';
import { EventErrors } from './events.errors.js';
import { type EventRecord, EventsRepository, type IssueRecord } from './events.repository.js';

function toEventResponse(event: EventRecord): EventResponse {
  return {
    id: event.id,
    project_id: event.project_id,
    issue_id: Number(event.issue_id),
    envelope_id: event.envelope_id,
    received_at: event.received_at.toISOString(),
    timestamp: event.timestamp.toISOString(),
    level: event.level ?? 'error',
    message: event.message,
    exception_type: event.exception_type,
    exception_value: event.exception_value,
    release: event.release,
    environment: event.environment,
    platform: event.platform,
    tags: event.tags,
    user: event.user_context,
    fingerprint: event.fingerprint,
  };
}

function toIssueResponse(issue: IssueRecord): IssueResponse {
  return {
    id: Number(issue.id),
    project_id: issue.project_id,
    title: issue.title,
    level: issue.level,
    fingerprint: issue.fingerprint,
    count: Number(issue.event_count),
    first_seen: issue.first_seen_at.toISOString(),
    last_seen: issue.last_seen_at.toISOString(),
  };
}

/** Reading Sentry events and issues, confined to the caller's organization. */
@Injectable()
export class EventsService {
  private readonly logger = new Logger('EventsService');

  constructor(private readonly events: EventsRepository) {}

  /** The organization's events, or one of its projects' (another's project is a 404). */
  async list(
    ctx: AuthenticatedContext,
    projectId: number | null,
    query: EventsQuery,
  ): Promise<Page<EventResponse>> {
    const scope = tenantOf(ctx);
    if (projectId !== null && !(await this.events.projectExists(scope, projectId))) {
      throw EventErrors.projectNotFound();
    }
    const [rows, total] = await this.events.listEvents(scope, projectId, query);
    return page(rows.map(toEventResponse), total, query);
  }

  /** `id` as EventIdParam admits it: 32 hex digits or a dashed UUID, either case. */
  async get(ctx: AuthenticatedContext, id: string): Promise<EventDetailResponse> {
    const eventId = asUuid(id);
    if (eventId === undefined) throw EventErrors.notFound();
    const found = await this.events.findEvent(tenantOf(ctx), eventId);
    if (found === null) throw EventErrors.notFound();
    const event = toEventResponse(found.event);
    if (found.body === null) return { ...event, envelope_headers: {}, items: [] };
    try {
      const envelope = await readStoredEnvelope(found.body);
      return {
        ...event,
        envelope_headers: storable(envelope.header),
        items: decodedItems(envelope),
      };
    } catch (error) {
      // The worker parsed it into this event, so this is storage gone wrong: show the event.
      this.logger.warn(`envelope ${event.envelope_id} cannot be read: ${(error as Error).message}`);
      return { ...event, envelope_headers: {}, items: [] };
    }
  }

  async issues(
    ctx: AuthenticatedContext,
    projectId: number,
    query: PageQuery,
  ): Promise<Page<IssueResponse>> {
    const scope = tenantOf(ctx);
    if (!(await this.events.projectExists(scope, projectId))) throw EventErrors.projectNotFound();
    const [rows, total] = await this.events.listIssues(scope, projectId, query);
    return page(rows.map(toIssueResponse), total, query);
  }
}
