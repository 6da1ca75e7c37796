import { describe, expect, it } from '@jest/globals';
import { JwtService } from '@nestjs/jwt';
import type { FastifyRequest } from 'fastify';
import jwt from 'jsonwebtoken';
import type { AuthConfig } from '../../config/config.classes.js';
import { AUDIENCE, ISSUER } from './access-token.js';
import { JwtKeys, keyIdOf } from './jwt-keys.js';
import { JwtStrategy } from './jwt.strategy.js';

const SECRET = 's'.repeat(40);
const PREVIOUS = 'p'.repeat(40);
const OTHER = 'o'.repeat(40);
const keys = new JwtKeys({ jwtSecret: SECRET, jwtPreviousSecrets: [PREVIOUS] } as AuthConfig);
const strategy = new JwtStrategy(keys, new JwtService());

const claims = {
  sub: '6f1c9e0e-8a4b-4c1e-9f7a-2b3c4d5e6f70',
  org: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  role: 'member',
  pa: false,
};
const sign = (
  payload: object = claims,
  options: jwt.SignOptions = {},
  secret = SECRET,
  keyId: string | undefined = keyIdOf(secret),
) =>
  jwt.sign(payload, secret, {
    algorithm: 'HS256',
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: 300,
    ...(keyId === undefined ? {} : { keyid: keyId }),
    ...options,
  });

/** What passport (the strategy the auth guard runs) makes of an Authorization header. */
function passportOutcome(request: FastifyRequest): Promise<'valid' | 'expired' | 'invalid'> {
  return new Promise((resolve) => {
    // Passport's own way of running a strategy: a per-request object with these actions.
    const attempt = Object.assign(Object.create(strategy) as JwtStrategy, {
      success: () => resolve('valid'),
      fail: (info?: { name?: string }) =>
        resolve(info?.name === 'TokenExpiredError' ? 'expired' : 'invalid'),
      error: () => resolve('invalid'),
    });
    attempt.authenticate(request as unknown as Parameters<JwtStrategy['authenticate']>[0]);
  });
}

describe('JwtStrategy.isInvalid', () => {
  const authorizations: Record<string, string | undefined> = {
    valid: `Bearer ${sign()}`,
    'lower-case scheme': `bearer ${sign()}`,
    'signed with a previous secret': `Bearer ${sign(claims, {}, PREVIOUS)}`,
    expired: `Bearer ${sign(claims, { expiresIn: -10 })}`,
    'expired, for another audience': `Bearer ${sign(claims, { expiresIn: -10, audience: 'x' })}`,
    'not yet valid': `Bearer ${sign(claims, { notBefore: 600 })}`,
    'signed with another secret under our key id': `Bearer ${sign(claims, {}, OTHER, keyIdOf(SECRET))}`,
    'an unknown key id': `Bearer ${sign(claims, {}, OTHER)}`,
    'no key id': `Bearer ${sign(claims, {}, SECRET, undefined)}`,
    HS512: `Bearer ${sign(claims, { algorithm: 'HS512' })}`,
    'alg none': `Bearer ${jwt.sign(claims, '', { algorithm: 'none', issuer: ISSUER, audience: AUDIENCE })}`,
    'another issuer': `Bearer ${sign(claims, { issuer: 'x' })}`,
    'another audience': `Bearer ${sign(claims, { audience: 'x' })}`,
    'an unknown role': `Bearer ${sign({ ...claims, role: 'king' })}`,
    'a subject that is no uuid': `Bearer ${sign({ ...claims, sub: '1' })}`,
    'a string payload': `Bearer ${jwt.sign('just text', SECRET, { algorithm: 'HS256', keyid: keyIdOf(SECRET) })}`,
    malformed: 'Bearer not.a.token',
    'a bare scheme': 'Bearer',
    'another scheme': 'Basic YTpi',
    empty: '',
    absent: undefined,
  };

  it.each(Object.entries(authorizations))(
    'decides as passport does: %s',
    async (_name, authorization) => {
      const request = {
        headers: authorization === undefined ? {} : { authorization },
      } as FastifyRequest;
      expect(strategy.isInvalid(request)).toBe((await passportOutcome(request)) === 'invalid');
    },
  );

  it('covers valid, expired and invalid tokens alike', async () => {
    const outcome = (authorization: string | undefined) =>
      passportOutcome({ headers: { authorization } } as FastifyRequest);
    expect(await outcome(authorizations.valid)).toBe('valid');
    expect(await outcome(authorizations['signed with a previous secret'])).toBe('valid');
    expect(await outcome(authorizations.expired)).toBe('expired');
    expect(await outcome(authorizations['expired, for another audience'])).toBe('expired');
    expect(await outcome(authorizations.malformed)).toBe('invalid');
  });
});
