import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, FlattenedSign } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  generateSigningKeySet,
  loadSigningKeys,
  parseSigningKeySet,
  rotateSigningKeySet,
  type SigningKeySet,
  signingKeysSecretName,
} from './signing-keys.ts';

const secretOf = (set: unknown) => async () => ({ [signingKeysSecretName]: JSON.stringify(set) });

/** The value, or a failed test naming what was missing. */
function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is missing`);
  return value;
}

/** What the JWKS must publish for a key: its public members and nothing else. */
const publicMembers = (jwk: SigningKeySet['current'] | SigningKeySet['previous']) => ({
  kty: 'OKP',
  crv: 'Ed25519',
  x: jwk?.x,
  kid: jwk?.kid,
  alg: 'EdDSA',
  use: 'sig',
});

/** A key set as written before sets had a next key: a current key and maybe a previous one. */
async function olderSet(withPrevious: boolean) {
  const { current } = await generateSigningKeySet();
  if (!withPrevious) return { current };
  const { current: old } = await generateSigningKeySet();
  const { d: _, ...previous } = old;
  return { current, previous };
}

describe('generateSigningKeySet', () => {
  it('makes a current and a next Ed25519 key, each with its RFC 7638 thumbprint as kid', async () => {
    const set = await generateSigningKeySet();

    expect(set.previous).toBeUndefined();
    for (const key of [set.current, present(set.next, 'next')]) {
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
      expect(key.x).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(key.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const { kty, crv, x } = key;
      expect(key.kid).toBe(await calculateJwkThumbprint({ kty, crv, x }));
    }
  });

  it('gives the next key a kid and key material of its own', async () => {
    const { current, next } = await generateSigningKeySet();

    expect(next?.kid).not.toBe(current.kid);
    expect(next?.x).not.toBe(current.x);
    expect(next?.d).not.toBe(current.d);
  });

  it('round-trips through the JSON string stored in the secret', async () => {
    const set = await generateSigningKeySet();
    expect(parseSigningKeySet(JSON.stringify(set))).toEqual(set);
  });
});

describe('rotateSigningKeySet', () => {
  it('promotes the next key to current, unchanged', async () => {
    const first = await generateSigningKeySet();
    const second = await rotateSigningKeySet(first);

    // The same kid and the same private key: verifiers already hold its public half.
    expect(second.current).toEqual(present(first.next, 'first.next'));
  });

  it('keeps the old current key as previous, without its private part', async () => {
    const first = await generateSigningKeySet();
    const second = await rotateSigningKeySet(first);

    const { d: _, ...publicPart } = first.current;
    expect(second.previous).toEqual(publicPart);
    expect(second.previous).not.toHaveProperty('d');
    expect(parseSigningKeySet(JSON.stringify(second))).toEqual(second);
  });

  it('makes a fresh next key, so current, next and previous all have kids of their own', async () => {
    const first = await generateSigningKeySet();
    const second = await rotateSigningKeySet(first);

    const next = present(second.next, 'second.next');
    expect(next.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect([first.current.kid, first.next?.kid]).not.toContain(next.kid);
    expect([first.current.x, first.next?.x]).not.toContain(next.x);
    const kids = [second.current.kid, next.kid, second.previous?.kid];
    expect(new Set(kids).size).toBe(3);
  });

  it('drops the key before the previous one', async () => {
    const first = await generateSigningKeySet();
    const second = await rotateSigningKeySet(first);
    const third = await rotateSigningKeySet(second);

    const kids = [third.current.kid, third.next?.kid, third.previous?.kid];
    expect(kids).not.toContain(first.current.kid);
    expect(third.current.kid).toBe(second.next?.kid);
    expect(third.previous?.kid).toBe(second.current.kid);
  });

  it('rotates a set written without a next key, generating the new current key', async () => {
    const older = await olderSet(true);
    const rotated = await rotateSigningKeySet(parseSigningKeySet(JSON.stringify(older)));

    const { d: _, ...publicPart } = older.current;
    expect(rotated.previous).toEqual(publicPart);
    const next = present(rotated.next, 'rotated.next');
    const kids = [rotated.current.kid, next.kid, rotated.previous?.kid];
    expect(new Set(kids).size).toBe(3);
    expect(kids).not.toContain(older.previous?.kid);
    expect(rotated.current.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(parseSigningKeySet(JSON.stringify(rotated))).toEqual(rotated);
  });
});

describe('parseSigningKeySet', () => {
  it('refuses text that is not JSON without quoting it', async () => {
    const { current } = await generateSigningKeySet();
    // An unquoted d: V8's own message would quote the characters around it.
    const broken = JSON.stringify({ current }).replace(`"${current.d}"`, current.d);

    let message = '';
    try {
      parseSigningKeySet(broken);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('the jwt-signing-keys secret is not valid JSON');
  });

  it('names each malformed field', async () => {
    const { current } = await generateSigningKeySet();
    const value = JSON.stringify({ current: { ...current, crv: 'P-256', d: 'short' } });

    expect(() => parseSigningKeySet(value)).toThrow(
      /current\.crv: .*; current\.d: must be 32 bytes/,
    );
  });

  it('refuses a set without a current key', () => {
    expect(() => parseSigningKeySet('{}')).toThrow(/current: /);
  });

  it('refuses a previous key with the same kid as the current one', async () => {
    const { current } = await generateSigningKeySet();
    const value = JSON.stringify({ current, previous: current });

    expect(() => parseSigningKeySet(value)).toThrow(/previous\.kid: the previous key must have/);
  });

  it('refuses a next key with the same kid as the current one', async () => {
    const { current } = await generateSigningKeySet();
    const value = JSON.stringify({ current, next: current });

    expect(() => parseSigningKeySet(value)).toThrow(/next\.kid: the next key must have/);
  });

  it('refuses a next key with the same kid as the previous one', async () => {
    const { current, next } = await generateSigningKeySet();
    const value = JSON.stringify({ current, next, previous: next });

    expect(() => parseSigningKeySet(value)).toThrow(/next\.kid: the next key must have/);
    // The previous key itself is fine: only the next one's kid is at fault.
    expect(() => parseSigningKeySet(value)).not.toThrow(/previous\.kid/);
  });

  it('refuses a next key without its private part', async () => {
    const { current, next } = await generateSigningKeySet();
    const { d: _, ...publicNext } = present(next, 'next');
    const value = JSON.stringify({ current, next: publicNext });

    expect(() => parseSigningKeySet(value)).toThrow(/next\.d: /);
  });

  it('accepts a set written without a next key', async () => {
    const older = await olderSet(true);

    const set = parseSigningKeySet(JSON.stringify(older));
    expect(set).toEqual(older);
    expect(set.next).toBeUndefined();
  });

  it('keeps no private part of a previous key written by hand', async () => {
    const { current } = await generateSigningKeySet();
    const { current: old } = await generateSigningKeySet();

    const set = parseSigningKeySet(JSON.stringify({ current, previous: old }));
    expect(set.previous).not.toHaveProperty('d');
  });
});

describe('loadSigningKeys', () => {
  it('publishes current, next and previous public keys and nothing private', async () => {
    const set = await rotateSigningKeySet(await generateSigningKeySet());
    const keys = await loadSigningKeys(secretOf(set));

    expect(keys.current.kid).toBe(set.current.kid);
    expect(keys.jwks).toEqual({
      keys: [publicMembers(set.current), publicMembers(set.next), publicMembers(set.previous)],
    });
    const published = JSON.stringify(keys.jwks);
    expect(published).not.toContain(set.current.d);
    expect(published).not.toContain(present(set.next, 'next').d);
  });

  it('publishes the next key of a new set, but signs with the current one', async () => {
    const set = await generateSigningKeySet();
    const keys = await loadSigningKeys(secretOf(set));

    expect(keys.current.kid).toBe(set.current.kid);
    expect(keys.jwks).toEqual({ keys: [publicMembers(set.current), publicMembers(set.next)] });
    expect(JSON.stringify(keys.jwks)).not.toContain(present(set.next, 'next').d);
  });

  it('loads a set written without a next key, publishing what it has', async () => {
    const withPrevious = await olderSet(true);
    const withCurrentOnly = await olderSet(false);

    const keys = await loadSigningKeys(secretOf(withPrevious));
    expect(keys.current.kid).toBe(withPrevious.current.kid);
    expect(keys.jwks).toEqual({
      keys: [publicMembers(withPrevious.current), publicMembers(withPrevious.previous)],
    });
    const onlyCurrent = await loadSigningKeys(secretOf(withCurrentOnly));
    expect(onlyCurrent.jwks).toEqual({ keys: [publicMembers(withCurrentOnly.current)] });
  });

  it('gives a private key whose signatures the published set verifies', async () => {
    const keys = await loadSigningKeys(secretOf(await generateSigningKeySet()));
    const payload = new TextEncoder().encode('probe');

    const jws = await new FlattenedSign(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: keys.current.kid })
      .sign(keys.current.privateKey);
    const compact = `${jws.protected}.${jws.payload}.${jws.signature}`;

    const verified = await compactVerify(compact, createLocalJWKSet(keys.jwks));
    expect(new TextDecoder().decode(verified.payload)).toBe('probe');
  });

  it('says which entries the secret has when ours is missing', async () => {
    const load = loadSigningKeys(async () => ({ 'other-key': 'x' }));
    await expect(load).rejects.toThrow(/no "jwt-signing-keys" entry .*\(entries: other-key\)/);
  });

  it('refuses a key set stored as a nested object instead of a JSON string', async () => {
    const set = await generateSigningKeySet();
    const load = loadSigningKeys(async () => ({ [signingKeysSecretName]: set }));
    await expect(load).rejects.toThrow(/no "jwt-signing-keys" entry holding a JSON string/);
  });

  it('refuses a key whose x is not the public half of its d', async () => {
    const { current } = await generateSigningKeySet();
    const { current: other } = await generateSigningKeySet();

    const load = loadSigningKeys(secretOf({ current: { ...current, x: other.x } }));
    await expect(load).rejects.toThrow(`key ${current.kid} has an x that is not d's`);
  });
});
