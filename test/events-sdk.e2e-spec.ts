import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventsIngestModule } from '../src/modules/events/events-ingest.module.js';
import type { EventBody, EventDetail, IssueBody } from './support/events-api.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { sentryClient } from './support/sentry-sdk.js';
import { type Page, expectError, expectStatus } from './support/tenancy.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

const dashed = (id: string) =>
  `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;

/** The same throw site every call: the SDK's frames of each throw are the same. */
function chargeCart(cart: { total: number } | undefined): number {
  if (cart === undefined) throw new TypeError('cart is undefined');
  return cart.total;
}

describe('The real @sentry/node SDK, read back through the events API', () => {
  let api: TestApp;
  let owner: Account;
  let stranger: Account;

  beforeAll(async () => {
    // The worker's events step runs in this process, as it does in test/events.e2e-spec.ts.
    api = await startApp({ imports: [EventsIngestModule] });
    [owner, stranger] = await Promise.all([registerOwner(api, 'sdk'), registerOwner(api, 'sdk-x')]);
  });

  afterAll(async () => {
    await api?.close();
  });

  const get = (path: string, by: Account = owner) => api.call(path, as(by, 'GET'));
  const event = async (id: string) =>
    (await expectStatus<{ data: EventDetail }>(await get(`/api/v1/events/${id}`), 200)).data;

  it('captureException twice from one throw site and captureMessage: events, one issue of 2, another of 1', async () => {
    const created = await api.call('/api/v1/projects', as(owner, 'POST', { name: 'Shop' }));
    const project = (await expectStatus<{ data: { id: number; dsn: string } }>(created, 201)).data;
    const client = sentryClient(project.dsn, api.url, {
      release: 'checkout@1.2.3',
      environment: 'e2e',
    });
    const exceptionIds: string[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        chargeCart(undefined);
      } catch (error) {
        exceptionIds.push(client.captureException(error));
      }
    }
    const messageId = client.captureMessage('payment provider slow', 'warning');
    expect(await client.flush(10_000)).toBe(true);
    await client.close();
    // The SDK reports Sentry's form, as the ingest route answered it.
    for (const id of [...exceptionIds, messageId]) expect(id).toMatch(/^[0-9a-f]{32}$/);

    // Found by the id the SDK returned, once the worker has parsed the envelope.
    const [firstId = '', secondId = ''] = exceptionIds;
    const exception = await eventually(() => event(firstId));
    expect(exception).toMatchObject({
      id: dashed(firstId),
      project_id: project.id,
      level: 'error',
      message: null,
      exception_type: 'TypeError',
      exception_value: 'cart is undefined',
      release: 'checkout@1.2.3',
      environment: 'e2e',
      platform: 'node',
    });
    expect(exception.envelope_headers).toMatchObject({ event_id: firstId });
    expect(exception.items.map((item) => [item.type, item.encoding])).toEqual([['event', 'json']]);
    expect(exception.items[0]?.payload).toMatchObject({
      event_id: firstId,
      exception: { values: [{ type: 'TypeError', value: 'cart is undefined' }] },
    });
    // The same event by the dashed form the API answers, and in upper case.
    for (const form of [dashed(firstId), dashed(firstId).toUpperCase(), firstId.toUpperCase()]) {
      expect([form, (await event(form)).id]).toEqual([form, dashed(firstId)]);
    }

    const message = await eventually(() => event(messageId));
    expect(message).toMatchObject({
      id: dashed(messageId),
      level: 'warning',
      message: 'payment provider slow',
      exception_type: null,
      release: 'checkout@1.2.3',
      environment: 'e2e',
      platform: 'node',
    });
    expect(message.items[0]?.payload).toMatchObject({ message: 'payment provider slow' });

    const list = await eventually(async () => {
      const page = await expectStatus<Page<EventBody>>(
        await get(`/api/v1/projects/${project.id}/events`),
        200,
      );
      expect(page.total).toBe(3);
      return page.data;
    });
    expect(list.map((row) => row.id).sort()).toEqual(
      [firstId, secondId, messageId].map(dashed).sort(),
    );
    const second = list.find((row) => row.id === dashed(secondId));
    expect(second?.issue_id).toBe(exception.issue_id);
    expect(second?.issue_id).not.toBe(message.issue_id);

    const issues = await expectStatus<Page<IssueBody>>(
      await get(`/api/v1/projects/${project.id}/issues`),
      200,
    );
    expect(issues.total).toBe(2);
    const byId = new Map(issues.data.map((issue) => [issue.id, issue]));
    expect(byId.get(exception.issue_id)).toMatchObject({
      title: 'TypeError: cart is undefined',
      level: 'error',
      count: 2,
    });
    expect(byId.get(message.issue_id)).toMatchObject({
      title: 'payment provider slow',
      level: 'warning',
      count: 1,
    });

    // Another organization's user: the event (in either form) and the project are 404.
    for (const path of [
      `/api/v1/events/${firstId}`,
      `/api/v1/events/${dashed(firstId)}`,
      `/api/v1/projects/${project.id}/events`,
      `/api/v1/projects/${project.id}/issues`,
    ]) {
      await expectError(await get(path, stranger), 404, 'RESOURCE_NOT_FOUND');
    }
  }, 30_000);

  it('an event id that is neither 32 hex digits nor a UUID is a 400', async () => {
    const hex = '9ec79c33ec9942ab8353589fcb2e04dc';
    for (const id of [
      'not-an-id',
      hex.slice(1),
      `${hex}0`,
      `9ec79c33ec99-42ab-8353-589fcb2e04dc`,
      `${hex.slice(0, 31)}g`,
      `{${dashed(hex)}}`,
      `urn:uuid:${dashed(hex)}`,
      `${dashed(hex)}%20`,
    ]) {
      await expectError(await get(`/api/v1/events/${id}`), 400, 'VALIDATION_ERROR');
    }
    // Well formed but unknown: 404.
    await expectError(await get(`/api/v1/events/${hex}`), 404, 'RESOURCE_NOT_FOUND');
  });
});
