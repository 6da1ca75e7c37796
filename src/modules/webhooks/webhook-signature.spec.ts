import { describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { generateSecret, secretKey, signWebhook } from './webhook-signature.js';
import { webhookBackoff } from './webhook-retry.js';

describe('webhook secrets and signatures', () => {
  it('generates whsec_ + base64 of 32 random bytes', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretKey(secret)?.length).toBe(32);
    expect(generateSecret()).not.toBe(secret);
  });

  it.each([
    'whsec_',
    'whsec_short',
    `whsec_${Buffer.alloc(23).toString('base64')}`,
    `whsec_${Buffer.alloc(65).toString('base64')}`,
    `sk_${Buffer.alloc(32).toString('base64')}`,
    `whsec_${Buffer.alloc(32).toString('base64url')}!`,
  ])('refuses the secret %s', (secret) => {
    expect(secretKey(secret)).toBeNull();
  });

  it('signs so that the standardwebhooks verifier accepts it, and only it', () => {
    const secret = generateSecret();
    const body = JSON.stringify({ id: 'evt_1', type: 'webhook.test', data: { a: 'é' } });
    const headers = signWebhook(secret, 'evt_1', new Date(), body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify(`${body} `, { ...headers })).toThrow();
  });
});

describe('webhookBackoff', () => {
  it('follows the schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then stops', () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => webhookBackoff(n, middle))).toEqual([
      0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000, -1,
    ]);
  });

  it('jitters each delay by up to 10 % either way', () => {
    expect(webhookBackoff(2, () => 0)).toBe(4_500);
    expect(webhookBackoff(2, () => 1)).toBe(5_500);
    expect(webhookBackoff(1, () => 1)).toBe(0);
  });
});
