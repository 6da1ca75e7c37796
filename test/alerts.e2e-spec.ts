import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AlertsModule } from '../src/modules/alerts/alerts.module.js';
import {
  AlertNotSent,
  IssueAlerts,
  type NewIssueAlert,
} from '../src/modules/alerts/issue-alerts.js';
import { type Account, addMember, as, registerOwner } from './support/identity.js';
import { type One, expectStatus } from './support/tenancy.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';
import { type WebhookReceiver, startReceiver } from './support/webhook-receiver.js';

const TOKEN = '123456:alerts-spec-token';
const SEND_PATH = `/bot${TOKEN}/sendMessage`;

interface SentMessage {
  chat_id: string;
  text: string;
}

describe('new-issue alerts through a (fake) Telegram Bot API', () => {
  let botApi: WebhookReceiver;
  let api: TestApp;
  let alerts: IssueAlerts;
  let owner: Account;
  let projectId: number;
  let issueSeq = 0;

  /** The chat ids and texts the fake Bot API got for `chatId`. */
  const sentTo = (chatId: string): SentMessage[] =>
    botApi
      .received(SEND_PATH)
      .map((request) => JSON.parse(request.body) as SentMessage)
      .filter((message) => message.chat_id === chatId);

  const setChat = async (account: Account, chatId: string | null) => {
    const response = await api.call(
      '/api/v1/auth/me',
      as(account, 'PATCH', { telegram_chat_id: chatId }),
    );
    await expectStatus(response, 200);
  };

  const newIssue = (title: string): NewIssueAlert => {
    issueSeq += 1;
    return {
      organizationId: owner.organizationId,
      projectId,
      issueId: `${Date.now()}${issueSeq}`,
      title,
      level: 'error',
    };
  };

  beforeAll(async () => {
    botApi = await startReceiver();
    api = await startApp({
      imports: [AlertsModule],
      env: { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_URL: botApi.url('') },
    });
    alerts = api.app.get(IssueAlerts);
    owner = await registerOwner(api, 'alerted');
    const created = await api.call(
      '/api/v1/projects',
      as(owner, 'POST', { name: 'Checkout service', slug: `checkout-${Date.now()}` }),
    );
    projectId = (await expectStatus<One<{ id: number }>>(created, 201)).data.id;
    await setChat(owner, 'chat-owner');
    await setChat(await addMember(api, owner, 'viewer'), 'chat-viewer');
    await addMember(api, owner, 'member'); // no chat: nothing to send to
    await setChat(await registerOwner(api, 'stranger'), 'chat-stranger');
  });

  afterAll(async () => {
    await api.close();
    await botApi.close();
  });

  it("sends one message per issue to the organization's members with a chat, no one else", async () => {
    const issue = newIssue('TypeError: cannot read properties of undefined');
    await alerts.newIssues([issue]);
    await alerts.newIssues([issue]); // reported twice: still one job, one message each
    await eventually(() => {
      expect(sentTo('chat-owner')).toHaveLength(1);
      expect(sentTo('chat-viewer')).toHaveLength(1);
      return Promise.resolve();
    });
    const [message] = sentTo('chat-owner');
    expect(message?.text).toContain('New issue in Checkout service (error)');
    expect(message?.text).toContain('TypeError: cannot read properties of undefined');
    expect(message?.text).toContain(`/api/v1/projects/${projectId}/issues`);
    // Within the hour, the same issue is not sent again, even by a job run anew.
    expect(await alerts.send(issue)).toEqual({ sent: 0, skipped: 2, refused: 0 });
    expect(sentTo('chat-owner')).toHaveLength(1);
    expect(sentTo('chat-stranger')).toHaveLength(0);
  });

  it('a failed send is retried for the members still waiting only; a refusal is not retried', async () => {
    const issue = newIssue('Error: upstream timed out');
    botApi.answer(SEND_PATH, [200, 502, 200]);
    const failure = await alerts.send(issue).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AlertNotSent);
    expect(String(failure)).toContain('Bot API answered 502');
    expect(String(failure)).not.toContain(TOKEN);
    const before = botApi.received(SEND_PATH).length;
    expect(await alerts.send(issue)).toEqual({ sent: 1, skipped: 1, refused: 0 });
    expect(botApi.received(SEND_PATH).length).toBe(before + 1);

    botApi.answer(SEND_PATH, [400]);
    expect(await alerts.send(newIssue('Error: chat gone'))).toEqual({
      sent: 0,
      skipped: 0,
      refused: 2,
    });
    botApi.answer(SEND_PATH, [200]);
  });

  it('the Bot API being down does not fail the caller: the job retries until it is back', async () => {
    botApi.answer(SEND_PATH, [503, 503, 200]);
    const issue = newIssue('RangeError: invalid array length');
    await alerts.newIssues([issue]);
    await eventually(() => {
      // Each member: the attempt answered 503, then the one answered 200, and no more.
      for (const chat of ['chat-owner', 'chat-viewer'])
        expect(sentTo(chat).filter((m) => m.text.includes('RangeError'))).toHaveLength(2);
      return Promise.resolve();
    }, 20_000);
  });

  it('with no TELEGRAM_BOT_TOKEN nothing is queued', async () => {
    const quiet = await startApp({ imports: [AlertsModule], env: { TELEGRAM_BOT_TOKEN: '' } });
    try {
      const before = botApi.received(SEND_PATH).length;
      await quiet.app.get(IssueAlerts).newIssues([newIssue('Error: unheard')]);
      expect(botApi.received(SEND_PATH).length).toBe(before);
    } finally {
      await quiet.close();
    }
  });
});
