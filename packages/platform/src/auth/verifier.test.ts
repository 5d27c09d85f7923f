import { randomBytes, randomUUID } from 'node:crypto';
import {
  base64url,
  decodeJwt,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logger.ts';
import { createTokenIssuer } from './issuer.ts';
import { createKeyring } from './keyring.ts';
import {
  generateSigningKeySet,
  loadSigningKeys,
  rotateSigningKeySet,
  type SigningKeySet,
  type SigningKeys,
  signingKeysSecretName,
} from './signing-keys.ts';
import { createTokenVerifier } from './verifier.ts';

const issuer = 'shop-users';
const audience = 'shop';
const logger = createLogger({ service: 'test', write: () => {} });

const secretOf = (set: unknown) => async () => ({ [signingKeysSecretName]: JSON.stringify(set) });
const newKeys = async () => loadSigningKeys(secretOf(await generateSigningKeySet()));

// The issuer's side (its keys) and a verifier whose JWKS fetch is our own thin function,
// counted and made to fail on demand.
async function fixture() {
  const keys = await newKeys();
  const jwks = { current: keys.jwks as JSONWebKeySet, fetches: 0, failing: false };
  const verifier = createTokenVerifier({
    fetchJwks: async () => {
      jwks.fetches++;
      if (jwks.failing) throw new Error('users unreachable');
      return jwks.current;
    },
    issuer,
    audience,
    logger,
  });
  const tokens = createTokenIssuer({ keyring: { current: () => keys.current }, issuer, audience });
  return { keys, jwks, verifier, tokens };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

/** A token signed with `keys` (ours by default) whose header and claims can be bent. */
async function forge(
  keys: SigningKeys,
  overrides: { header?: Partial<JWTHeaderParameters>; claims?: JWTPayload } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  // JSON drops members set to undefined, which is how a test removes a claim.
  return new SignJWT({
    iss: issuer,
    aud: audience,
    sub: 'user-1',
    role: 'customer',
    jti: randomUUID(),
    iat: now,
    exp: now + 900,
    ...overrides.claims,
  })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.current.kid, ...overrides.header })
    .sign(keys.current.privateKey);
}

const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('issueAccessToken', () => {
  it('signs an RFC 9068 access token with the current key', async () => {
    const { keys, tokens } = await fixture();

    const issued = await tokens.issueAccessToken({ userId: 'user-1', role: 'admin' });

    expect(issued.expiresIn).toBe(900);
    expect(decodeProtectedHeader(issued.accessToken)).toEqual({
      alg: 'EdDSA',
      kid: keys.current.kid,
      typ: 'at+jwt',
    });
    const now = Date.now() / 1000;
    expect(decodeJwt(issued.accessToken)).toEqual({
      iss: issuer,
      aud: audience,
      sub: 'user-1',
      role: 'admin',
      jti: issued.jti,
      iat: now,
      exp: now + 900,
    });
  });

  it('carries the session as the sid claim when it is given one', async () => {
    const { tokens, verifier } = await fixture();

    const issued = await tokens.issueAccessToken({
      userId: 'user-1',
      role: 'customer',
      sessionId: 'family-1',
    });

    expect(decodeJwt(issued.accessToken).sid).toBe('family-1');
    await expect(verifier.verify(issued.accessToken)).resolves.toMatchObject({
      sessionId: 'family-1',
    });
  });

  it('carries email_verified when told, and reads a token without it as unverified', async () => {
    const { tokens, verifier } = await fixture();
    const subject = { userId: 'user-1', role: 'customer' } as const;

    const verified = await tokens.issueAccessToken({ ...subject, emailVerified: true });
    const unverified = await tokens.issueAccessToken({ ...subject, emailVerified: false });
    const older = await tokens.issueAccessToken(subject);

    expect(decodeJwt(verified.accessToken).email_verified).toBe(true);
    expect(decodeJwt(unverified.accessToken).email_verified).toBe(false);
    expect(decodeJwt(older.accessToken)).not.toHaveProperty('email_verified');
    const read = async (token: string) => (await verifier.verify(token)).emailVerified;
    expect(await read(verified.accessToken)).toBe(true);
    expect(await read(unverified.accessToken)).toBe(false);
    expect(await read(older.accessToken)).toBe(false);
  });

  it('gives every token its own jti', async () => {
    const { tokens } = await fixture();
    const a = await tokens.issueAccessToken({ userId: 'user-1', role: 'customer' });
    const b = await tokens.issueAccessToken({ userId: 'user-1', role: 'customer' });
    expect(a.jti).not.toBe(b.jti);
  });

  it('refuses a ttl that is not a positive whole number of seconds', async () => {
    const { keys } = await fixture();
    const keyring = { current: () => keys.current };
    expect(() => createTokenIssuer({ keyring, issuer, audience, ttlSeconds: 0 })).toThrow();
    expect(() => createTokenIssuer({ keyring, issuer, audience, ttlSeconds: 1.5 })).toThrow();
  });
});

describe('verify: accepts', () => {
  it('a token from the issuer, until it expires', async () => {
    const { verifier, tokens } = await fixture();
    const issued = await tokens.issueAccessToken({ userId: 'user-1', role: 'customer' });

    await expect(verifier.verify(issued.accessToken)).resolves.toEqual({
      userId: 'user-1',
      role: 'customer',
      jti: issued.jti,
      expiresAt: new Date(Date.now() + 900_000),
      emailVerified: false,
    });

    vi.setSystemTime(Date.now() + 906_000);
    await expect(verifier.verify(issued.accessToken)).rejects.toMatchObject({
      code: 'unauthenticated',
      message: 'the access token has expired',
    });
  });

  it('clock skew within the tolerance', async () => {
    const { keys, verifier } = await fixture();
    const now = Math.floor(Date.now() / 1000);

    const justExpired = await forge(keys, { claims: { iat: now - 903, exp: now - 3 } });
    const fromAFastClock = await forge(keys, { claims: { iat: now + 3, nbf: now + 3 } });

    await expect(verifier.verify(justExpired)).resolves.toMatchObject({ userId: 'user-1' });
    await expect(verifier.verify(fromAFastClock)).resolves.toMatchObject({ userId: 'user-1' });
  });

  it('the full media type application/at+jwt', async () => {
    const { keys, verifier } = await fixture();
    const token = await forge(keys, { header: { typ: 'application/at+jwt' } });
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'user-1' });
  });
});

// Each attack as a real token; the verifier must answer 401 with the reason given.
const rejections: Array<[string, (f: Fixture) => Promise<string>, string]> = [
  [
    'alg none',
    async ({ keys }) => {
      const token = await forge(keys);
      const [, payload] = token.split('.');
      const header = { alg: 'none', typ: 'at+jwt', kid: keys.current.kid };
      return `${encodeJson(header)}.${payload}.`;
    },
    'the access token is not signed with EdDSA',
  ],
  [
    'HS256 keyed with our public key',
    async ({ keys }) => {
      const publicKey = keys.jwks.keys[0];
      const secret = base64url.decode(publicKey?.x ?? '');
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ role: 'admin', jti: randomUUID() })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: keys.current.kid })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject('user-1')
        .setIssuedAt(now)
        .setExpirationTime(now + 900)
        .sign(secret);
    },
    'the access token is not signed with EdDSA',
  ],
  [
    'a foreign key under our kid',
    async ({ keys }) => {
      const foreign = await newKeys();
      return forge(foreign, { header: { kid: keys.current.kid } });
    },
    'the access token signature is invalid',
  ],
  [
    'a foreign key under its own kid',
    async () => forge(await newKeys()),
    'the access token is signed with an unknown key',
  ],
  [
    'a tampered payload',
    async ({ keys }) => {
      const [header, payload, signature] = (await forge(keys)).split('.');
      const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload ?? '')));
      return `${header}.${encodeJson({ ...claims, role: 'admin' })}.${signature}`;
    },
    'the access token signature is invalid',
  ],
  [
    'a tampered signature',
    async ({ keys }) => {
      const [header, payload, signature = ''] = (await forge(keys)).split('.');
      // The first character, not the last: the last one also carries padding bits.
      const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
      return `${header}.${payload}.${flipped}`;
    },
    'the access token signature is invalid',
  ],
  [
    'a wrong issuer',
    ({ keys }) => forge(keys, { claims: { iss: 'someone-else' } }),
    'the access token has an unacceptable iss claim',
  ],
  [
    'a wrong audience',
    ({ keys }) => forge(keys, { claims: { aud: 'another-api' } }),
    'the access token has an unacceptable aud claim',
  ],
  [
    'no issuer',
    ({ keys }) => forge(keys, { claims: { iss: undefined } }),
    'the access token has no iss claim',
  ],
  [
    'no audience',
    ({ keys }) => forge(keys, { claims: { aud: undefined } }),
    'the access token has no aud claim',
  ],
  [
    'an expiry beyond the tolerance',
    ({ keys }) => {
      const now = Math.floor(Date.now() / 1000);
      return forge(keys, { claims: { iat: now - 906, exp: now - 6 } });
    },
    'the access token has expired',
  ],
  [
    'nbf in the future beyond the tolerance',
    ({ keys }) => forge(keys, { claims: { nbf: Math.floor(Date.now() / 1000) + 6 } }),
    'the access token has an unacceptable nbf claim',
  ],
  [
    'iat in the future beyond the tolerance',
    ({ keys }) => {
      const now = Math.floor(Date.now() / 1000);
      return forge(keys, { claims: { iat: now + 6, exp: now + 906 } });
    },
    'the access token was issued in the future',
  ],
  [
    'no sub',
    ({ keys }) => forge(keys, { claims: { sub: undefined } }),
    'the access token has no sub claim',
  ],
  [
    'an empty sub',
    ({ keys }) => forge(keys, { claims: { sub: '' } }),
    'the access token has an unacceptable sub claim',
  ],
  [
    'no role',
    ({ keys }) => forge(keys, { claims: { role: undefined } }),
    'the access token has no role claim',
  ],
  [
    'a role outside the set',
    ({ keys }) => forge(keys, { claims: { role: 'superuser' } }),
    'the access token has an unacceptable role claim',
  ],
  [
    'a sid that is not a string',
    ({ keys }) => forge(keys, { claims: { sid: 42 } }),
    'the access token has an unacceptable sid claim',
  ],
  [
    'an email_verified that is not a boolean',
    ({ keys }) => forge(keys, { claims: { email_verified: 'true' } }),
    'the access token has an unacceptable email_verified claim',
  ],
  [
    'no jti',
    ({ keys }) => forge(keys, { claims: { jti: undefined } }),
    'the access token has no jti claim',
  ],
  [
    'no exp',
    ({ keys }) => forge(keys, { claims: { exp: undefined } }),
    'the access token has no exp claim',
  ],
  [
    'no iat',
    ({ keys }) => forge(keys, { claims: { iat: undefined } }),
    'the access token has no iat claim',
  ],
  [
    'a refresh token (an opaque random string)',
    async () => randomBytes(32).toString('base64url'),
    'the access token is malformed',
  ],
  [
    'typ JWT',
    ({ keys }) => forge(keys, { header: { typ: 'JWT' } }),
    'the token is not an access token',
  ],
  [
    'no typ',
    ({ keys }) => forge(keys, { header: { typ: undefined } }),
    'the token is not an access token',
  ],
  [
    'no kid',
    ({ keys }) => forge(keys, { header: { kid: undefined } }),
    'the access token has no key id',
  ],
  [
    'a token longer than any we issue',
    ({ keys }) => forge(keys, { claims: { padding: 'x'.repeat(4096) } }),
    'the access token is too long',
  ],
];

describe('verify: rejects with 401', () => {
  it.each(rejections)('%s', async (_, make, reason) => {
    const f = await fixture();
    const token = await make(f);

    await expect(f.verifier.verify(token)).rejects.toMatchObject({
      name: 'AppError',
      code: 'unauthenticated',
      status: 401,
      message: reason,
    });
  });
});

describe('verify: keys', () => {
  it('refetches the JWKS once for an unknown kid, then at most once per 30 s', async () => {
    const { keys, jwks, verifier, tokens } = await fixture();
    const valid = await tokens.issueAccessToken({ userId: 'user-1', role: 'customer' });
    await verifier.verify(valid.accessToken);
    expect(jwks.fetches).toBe(1);

    const unknown = () => newKeys().then((foreign) => forge(foreign));
    await expect(verifier.verify(await unknown())).rejects.toMatchObject({ status: 401 });
    expect(jwks.fetches).toBe(2);

    vi.setSystemTime(Date.now() + 29_000);
    await expect(verifier.verify(await unknown())).rejects.toMatchObject({ status: 401 });
    await expect(verifier.verify(await unknown())).rejects.toMatchObject({ status: 401 });
    expect(jwks.fetches).toBe(2);

    vi.setSystemTime(Date.now() + 1_000);
    await expect(verifier.verify(await unknown())).rejects.toMatchObject({ status: 401 });
    expect(jwks.fetches).toBe(3);

    // Known kids never wait on the limit.
    await expect(verifier.verify(await forge(keys))).resolves.toMatchObject({ userId: 'user-1' });
    expect(jwks.fetches).toBe(3);
  });

  it('learns a newly published key through that one refetch', async () => {
    const { keys, jwks, verifier } = await fixture();
    await verifier.verify(await forge(keys));
    const newer = await newKeys();

    jwks.current = { keys: [...jwks.current.keys, ...newer.jwks.keys] };

    await expect(verifier.verify(await forge(newer))).resolves.toMatchObject({ userId: 'user-1' });
    expect(jwks.fetches).toBe(2);
  });

  it('shares one fetch among concurrent requests', async () => {
    const { keys, jwks, verifier } = await fixture();
    const token = await forge(keys);

    await Promise.all(Array.from({ length: 5 }, () => verifier.verify(token)));
    expect(jwks.fetches).toBe(1);

    const newer = await newKeys();
    jwks.current = { keys: [...jwks.current.keys, ...newer.jwks.keys] };
    const rotated = await forge(newer);
    await Promise.all(Array.from({ length: 5 }, () => verifier.verify(rotated)));
    expect(jwks.fetches).toBe(2);
  });
});

describe('verify: fetching keys', () => {
  it('answers 503, not 401, while it has never had keys, and retries at most once a second', async () => {
    const { keys, jwks, verifier } = await fixture();
    const token = await forge(keys);
    jwks.failing = true;

    const unavailable = {
      code: 'upstream_unavailable',
      status: 503,
      headers: { 'retry-after': '1' },
    };
    await expect(verifier.verify(token)).rejects.toMatchObject(unavailable);
    await expect(verifier.verify(token)).rejects.toMatchObject(unavailable);
    expect(jwks.fetches).toBe(1);

    jwks.failing = false;
    vi.setSystemTime(Date.now() + 1_000);
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'user-1' });
    expect(jwks.fetches).toBe(2);
  });

  it('rejects a malformed token without fetching any keys', async () => {
    const { keys, jwks, verifier } = await fixture();

    await expect(verifier.verify('garbage')).rejects.toMatchObject({ status: 401 });
    await expect(verifier.verify(await forge(keys, { header: { typ: 'JWT' } }))).rejects.toThrow();
    expect(jwks.fetches).toBe(0);
  });

  it('refetches keys older than 5 minutes, and keeps them if that fails', async () => {
    const { keys, jwks, verifier } = await fixture();
    await verifier.verify(await forge(keys));

    jwks.failing = true;
    vi.setSystemTime(Date.now() + 5 * 60_000 + 1);
    await expect(verifier.verify(await forge(keys))).resolves.toMatchObject({ userId: 'user-1' });
    expect(jwks.fetches).toBe(2);
  });
});

// The users service's keyring over a stored key set that a test can rotate, and a verifier
// (the gateway's) fetching its JWKS from that keyring, with the fetches counted.
async function rotatingShop(initial: SigningKeySet) {
  const state = { stored: initial, fetches: 0 };
  const keyring = await createKeyring({
    load: () =>
      loadSigningKeys(async () => ({ [signingKeysSecretName]: JSON.stringify(state.stored) })),
    logger,
  });
  const verifier = createTokenVerifier({
    fetchJwks: async () => {
      state.fetches++;
      return keyring.jwks();
    },
    issuer,
    audience,
    logger,
  });
  const tokens = createTokenIssuer({ keyring, issuer, audience });
  const rotate = async () => {
    state.stored = await rotateSigningKeySet(state.stored);
    await keyring.refresh();
  };
  const issue = () => tokens.issueAccessToken({ userId: 'user-1', role: 'customer' });
  return { state, keyring, verifier, rotate, issue };
}

const shops: Array<{ keyring: { stop(): void } }> = [];
afterEach(() => {
  for (const shop of shops.splice(0)) shop.keyring.stop();
});
const shopOver = async (initial: SigningKeySet) => {
  const shop = await rotatingShop(initial);
  shops.push(shop);
  return shop;
};

describe('rotation through the keyring', () => {
  it('accepts tokens of the previous key until a second rotation retires it', async () => {
    const { state, verifier, rotate, issue } = await shopOver(await generateSigningKeySet());
    const first = await issue();
    await expect(verifier.verify(first.accessToken)).resolves.toMatchObject({ jti: first.jti });
    expect(state.fetches).toBe(1);

    await rotate();
    const second = await issue();
    expect(decodeProtectedHeader(second.accessToken).kid).toBe(state.stored.current.kid);

    await expect(verifier.verify(first.accessToken)).resolves.toMatchObject({ jti: first.jti });
    await expect(verifier.verify(second.accessToken)).resolves.toMatchObject({ jti: second.jti });
    // The new current key was published as the next one before the rotation: nothing to fetch.
    expect(state.fetches).toBe(1);

    await rotate();
    vi.setSystemTime(Date.now() + 5 * 60_000 + 1);

    await expect(verifier.verify(first.accessToken)).rejects.toMatchObject({
      status: 401,
      message: 'the access token is signed with an unknown key',
    });
    await expect(verifier.verify(second.accessToken)).resolves.toMatchObject({ jti: second.jti });
    const third = await issue();
    await expect(verifier.verify(third.accessToken)).resolves.toMatchObject({ jti: third.jti });
  });

  it('verifies a token of the new key without fetching, though a garbage kid just spent the refetch', async () => {
    const { state, verifier, rotate, issue } = await shopOver(await generateSigningKeySet());
    const before = await issue();
    await expect(verifier.verify(before.accessToken)).resolves.toMatchObject({ jti: before.jti });
    expect(state.fetches).toBe(1);

    // A made-up kid spends the one unknown-kid refetch allowed in the next 30 s.
    const garbage = await forge(await newKeys());
    await expect(verifier.verify(garbage)).rejects.toMatchObject({
      status: 401,
      message: 'the access token is signed with an unknown key',
    });
    expect(state.fetches).toBe(2);

    await rotate();
    const after = await issue();
    expect(decodeProtectedHeader(after.accessToken).kid).not.toBe(
      decodeProtectedHeader(before.accessToken).kid,
    );

    // Still within those 30 s (the clock is fake and has not moved).
    await expect(verifier.verify(after.accessToken)).resolves.toMatchObject({ jti: after.jti });
    await expect(verifier.verify(before.accessToken)).resolves.toMatchObject({ jti: before.jti });
    expect(state.fetches).toBe(2);
  });

  it('rotates a set written without a next key through one refetch, and needs none after', async () => {
    const { current } = await generateSigningKeySet();
    const { state, verifier, rotate, issue } = await shopOver({ current });
    const first = await issue();
    await expect(verifier.verify(first.accessToken)).resolves.toMatchObject({ jti: first.jti });
    expect(state.fetches).toBe(1);

    // The old set published no next key, so the verifier meets this kid for the first time.
    await rotate();
    const second = await issue();
    await expect(verifier.verify(second.accessToken)).resolves.toMatchObject({ jti: second.jti });
    await expect(verifier.verify(first.accessToken)).resolves.toMatchObject({ jti: first.jti });
    expect(state.fetches).toBe(2);

    // That rotation published a next key, which the refetch brought along.
    await rotate();
    const third = await issue();
    await expect(verifier.verify(third.accessToken)).resolves.toMatchObject({ jti: third.jti });
    await expect(verifier.verify(second.accessToken)).resolves.toMatchObject({ jti: second.jti });
    expect(state.fetches).toBe(2);
  });
});
