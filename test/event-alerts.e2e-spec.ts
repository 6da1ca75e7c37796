import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { EventsIngestModule } from '../src/modules/events/events-ingest.module.js';
import { eventEnvelope, storeEnvelope } from './support/envelopes.js';
import { type Account, addMember, as, registerOwner } from './support/identity.js';
import { expectStatus } from './support/tenancy.js';
import { type IsolatedDatabase, isolatedDatabase } from './support/isolated-database.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';
import { type WebhookReceiver, startReceiver } from './support/webhook-receiver.js';

const TOKEN = '123456:test-token';
const SEND = `/bot${TOKEN}/sendMessage`;

describe('Telegram alerts for new issues (a fake Bot API)', () => {
  let api: TestApp;
  let botApi: WebhookReceiver;
  let dataSource: DataSource;
  let owner: Account;
  let isolated: IsolatedDatabase;

  beforeAll(async () => {
    botApi = await startReceiver();
    // A database of its own: no other spec's events step parses (and does not alert) these.
    isolated = await isolatedDatabase('eventalerts');
    api = await startApp({
      imports: [EventsIngestModule],
      env: {
        DATABASE_URL: isolated.url,
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_API_URL: botApi.url(''),
        // Queues of its own: no other spec's worker takes these alerts.
        QUEUE_PREFIX: `${process.env.QUEUE_PREFIX ?? 'gh-test'}-alerts`,
      },
    });
    dataSource = api.app.get(DataSource);
    owner = await registerOwner(api);
  });

  afterAll(async () => {
    await api.close();
    await botApi.close();
    await isolated.drop();
  });

  const setChat = async (account: Account, chat: string) =>
    expectStatus(
      await api.call('/api/v1/auth/me', as(account, 'PATCH', { telegram_chat_id: chat })),
      200,
    );

  const messages = () =>
    botApi
      .received(SEND)
      .map((request) => JSON.parse(request.body) as { chat_id: string; text: string });

  it("alerts the organization's members with a chat once per new issue, retrying failures", async () => {
    const member = await addMember(api, owner, 'viewer');
    const stranger = await registerOwner(api, 'stranger');
    await Promise.all([setChat(owner, '1001'), setChat(member, '1002'), setChat(stranger, '9999')]);
    const created = await api.call('/api/v1/projects', as(owner, 'POST', { name: 'Checkout' }));
    const projectId = (await expectStatus<{ data: { id: number } }>(created, 201)).data.id;
    // The first send fails: the job is retried, to the chat that failed only.
    botApi.answer(SEND, [500, 200]);
    const store = (message: string) =>
      storeEnvelope(dataSource, {
        organizationId: owner.organizationId,
        projectId,
        body: eventEnvelope({ message, level: 'fatal' }),
      });
    await store('card declined');

    await eventually(() => {
      const sent = messages();
      expect(sent).toHaveLength(3);
      expect(sent.map((message) => message.chat_id).sort()).toEqual(['1001', '1001', '1002']);
      return Promise.resolve();
    }, 20_000);
    const text = messages()[0]?.text ?? '';
    expect(text).toContain('Checkout');
    expect(text).toContain('[fatal]');
    expect(text).toContain('card declined');
    expect(text).toMatch(/\/api\/v1\/events\/[0-9a-f-]{36}$/);

    // The same issue again: no alert; a new one: one per chat.
    await store('card declined');
    await store('stock exhausted');
    await eventually(() => {
      const sent = messages();
      expect(sent.filter((message) => message.text.includes('stock exhausted'))).toHaveLength(2);
      return Promise.resolve();
    });
    // Both envelopes were parsed before the second alert went out: no alert for the old issue.
    expect(messages().filter((message) => message.text.includes('card declined'))).toHaveLength(3);
    expect(messages().some((message) => message.chat_id === '9999')).toBe(false);
  }, 40_000);
});
