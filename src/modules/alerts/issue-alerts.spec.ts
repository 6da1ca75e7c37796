import { describe, expect, it } from '@jest/globals';
import { alertText } from './issue-alerts.js';
import { MAX_MESSAGE_LENGTH } from './telegram-client.js';

const alert = {
  organizationId: '6f1c1f4e-2f53-4c8e-9a51-0b7a1d9c3e11',
  projectId: 7,
  issueId: '42',
  title: 'TypeError: x is undefined',
  level: 'error',
};

describe('alertText', () => {
  it('names the project, the level, the title and links to the issues', () => {
    expect(alertText(alert, 'Checkout', 'https://gh.example.com')).toBe(
      'New issue in Checkout (error)\nTypeError: x is undefined\nhttps://gh.example.com/api/v1/projects/7/issues',
    );
    expect(alertText({ ...alert, level: null }, 'Checkout', 'http://h')).toMatch(
      /^New issue in Checkout\n/,
    );
  });

  it("cuts a long title so the message fits Telegram's 4,096 characters, link kept", () => {
    const text = alertText({ ...alert, title: 'x'.repeat(10_000) }, 'P', 'http://h');
    expect(text.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(text.endsWith('http://h/api/v1/projects/7/issues')).toBe(true);
    expect(text).toContain('x…\n');
  });
});
