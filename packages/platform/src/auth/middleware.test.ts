import { Hono } from 'hono';
import { decodeJwt, type JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';
import { AppError, problemContentType, problemResponse } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { createTokenIssuer } from './issuer.ts';
import { authenticate, requireRole } from './middleware.ts';
import { generateSigningKeySet, loadSigningKeys, signingKeysSecretName } from './signing-keys.ts';
import { createTokenVerifier } from './verifier.ts';

const issuer = 'shop-users';
const audience = 'shop';
const logger = createLogger({ service: 'test', write: () => {} });

async function shop(options: { jwksAvailable?: boolean } = {}) {
  const set = await generateSigningKeySet();
  const keys = await loadSigningKeys(async () => ({
    [signingKeysSecretName]: JSON.stringify(set),
  }));
  const verifier = createTokenVerifier({
    fetchJwks: async (): Promise<JSONWebKeySet> => {
      if (options.jwksAvailable === false) throw new Error('users unreachable');
      return keys.jwks;
    },
    issuer,
    audience,
    logger,
  });
  const tokens = createTokenIssuer({ keyring: { current: () => keys.current }, issuer, audience });

  const app = new Hono();
  app.onError((error, c) =>
    error instanceof AppError ? problemResponse(c, error) : c.text('unexpected', 500),
  );
  app.get('/me', authenticate(verifier), (c) => c.json(c.get('user')));
  app.get('/admin', authenticate(verifier), requireRole('admin'), (c) => c.text('welcome'));
  app.get('/misconfigured', requireRole('admin'), (c) => c.text('should not be reached'));

  const tokenFor = async (role: 'customer' | 'admin', sessionId?: string) =>
    tokens.issueAccessToken({ userId: 'user-1', role, sessionId });
  return { app, tokenFor };
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

async function expectProblem(res: Response, status: number, challenge: string | null) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe(problemContentType);
  expect(res.headers.get('www-authenticate')).toBe(challenge);
  return (await res.json()) as { type: string; status: number; detail: string };
}

describe('authenticate: a valid token', () => {
  it('lets a valid token through and sets the user', async () => {
    const { app, tokenFor } = await shop();
    const { accessToken, jti } = await tokenFor('customer');

    const res = await app.request('/me', bearer(accessToken));

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: 'user-1',
      role: 'customer',
      tokenId: jti,
      expiresAt: decodeJwt(accessToken).exp,
      emailVerified: false,
    });
  });

  it('sets the session the token was issued for', async () => {
    const { app, tokenFor } = await shop();
    const { accessToken } = await tokenFor('customer', 'family-1');

    const res = await app.request('/me', bearer(accessToken));

    expect(await res.json()).toMatchObject({ sessionId: 'family-1' });
  });

  it.each(['bearer', 'BEARER', 'bEaReR'])('accepts the scheme spelled %s', async (scheme) => {
    const { app, tokenFor } = await shop();
    const { accessToken } = await tokenFor('customer');

    const res = await app.request('/me', {
      headers: { authorization: `${scheme} ${accessToken}` },
    });

    expect(res.status).toBe(200);
  });
});

describe('authenticate: missing or malformed credentials', () => {
  it('asks for credentials, with no error code, when there are none', async () => {
    const { app } = await shop();

    const res = await app.request('/me');

    const body = await expectProblem(res, 401, 'Bearer realm="shop"');
    expect(body).toMatchObject({ type: 'urn:shop:problem:unauthenticated', status: 401 });
  });

  it('treats another scheme as no credentials', async () => {
    const { app } = await shop();

    const res = await app.request('/me', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });

    await expectProblem(res, 401, 'Bearer realm="shop"');
  });

  it.each([
    ['no token', 'Bearer'],
    ['two tokens', 'Bearer abc def'],
    ['a token with a character outside b64token', 'Bearer abc"def'],
  ])('refuses a header with %s as invalid_request', async (_, authorization) => {
    const { app } = await shop();

    const res = await app.request('/me', { headers: { authorization } });

    const description = 'the Authorization header must be Bearer and exactly one token';
    await expectProblem(
      res,
      401,
      `Bearer realm="shop", error="invalid_request", error_description="${description}"`,
    );
  });

  it('refuses two Authorization headers', async () => {
    const { app, tokenFor } = await shop();
    const { accessToken } = await tokenFor('customer');
    const headers = new Headers();
    headers.append('authorization', `Bearer ${accessToken}`);
    headers.append('authorization', `Bearer ${accessToken}`);

    const res = await app.request('/me', { headers });

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });
});

describe('authenticate: tokens it refuses', () => {
  it('refuses an invalid token as invalid_token, saying why', async () => {
    const { app, tokenFor } = await shop();
    const { accessToken } = await tokenFor('customer');
    const [header, payload, signature = ''] = accessToken.split('.');
    const tampered = `${header}.${payload}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;

    const res = await app.request('/me', bearer(tampered));

    const body = await expectProblem(
      res,
      401,
      'Bearer realm="shop", error="invalid_token", error_description="the access token signature is invalid"',
    );
    expect(body.detail).toBe('the access token signature is invalid');
  });

  it('refuses a refresh token presented as an access token', async () => {
    const { app } = await shop();

    const res = await app.request('/me', bearer('q7Vf3k2N0pX9wL5mR8tY1uZ4aB6cD0eF2gH4iJ6kL8m'));

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('answers 503 without a challenge while the keys cannot be fetched', async () => {
    const { app, tokenFor } = await shop({ jwksAvailable: false });
    const { accessToken } = await tokenFor('customer');

    const res = await app.request('/me', bearer(accessToken));

    const body = await expectProblem(res, 503, null);
    expect(body.type).toBe('urn:shop:problem:upstream-unavailable');
    expect(res.headers.get('retry-after')).toBe('1');
  });
});

describe('requireRole', () => {
  it('admits the role', async () => {
    const { app, tokenFor } = await shop();
    const { accessToken } = await tokenFor('admin');

    const res = await app.request('/admin', bearer(accessToken));

    expect(res.status).toBe(200);
    expect(await res.text()).toBe('welcome');
  });

  it('forbids any other role with 403', async () => {
    const { app, tokenFor } = await shop();
    const { accessToken } = await tokenFor('customer');

    const res = await app.request('/admin', bearer(accessToken));

    const body = await expectProblem(
      res,
      403,
      'Bearer realm="shop", error="insufficient_scope", error_description="the admin role is required"',
    );
    expect(body.type).toBe('urn:shop:problem:forbidden');
  });

  it('authenticates before it authorizes', async () => {
    const { app } = await shop();

    const res = await app.request('/admin');

    await expectProblem(res, 401, 'Bearer realm="shop"');
  });

  it('fails loudly, never open, when mounted without authenticate()', async () => {
    const { app } = await shop();

    const res = await app.request('/misconfigured');

    expect(res.status).toBe(500);
  });
});
