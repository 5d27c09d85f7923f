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

describe('generateSigningKeySet', () => {
  it('makes one Ed25519 key whose kid is its RFC 7638 thumbprint', async () => {
    const set = await generateSigningKeySet();

    expect(set.previous).toBeUndefined();
    expect(set.current).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(set.current.x).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(set.current.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { kty, crv, x } = set.current;
    expect(set.current.kid).toBe(await calculateJwkThumbprint({ kty, crv, x }));
  });

  it('round-trips through the JSON string stored in the secret', async () => {
    const set = await generateSigningKeySet();
    expect(parseSigningKeySet(JSON.stringify(set))).toEqual(set);
  });
});

describe('rotateSigningKeySet', () => {
  it('makes a new current key and keeps the old one as previous, without its private part', async () => {
    const first = await generateSigningKeySet();
    const second = await rotateSigningKeySet(first);

    expect(second.current.kid).not.toBe(first.current.kid);
    const { d: _, ...publicPart } = first.current;
    expect(second.previous).toEqual(publicPart);
    expect(parseSigningKeySet(JSON.stringify(second))).toEqual(second);
  });

  it('drops the key before the previous one', async () => {
    const first = await generateSigningKeySet();
    const third = await rotateSigningKeySet(await rotateSigningKeySet(first));

    const kids = [third.current.kid, third.previous?.kid];
    expect(kids).not.toContain(first.current.kid);
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

  it('keeps no private part of a previous key written by hand', async () => {
    const { current } = await generateSigningKeySet();
    const { current: old } = await generateSigningKeySet();

    const set = parseSigningKeySet(JSON.stringify({ current, previous: old }));
    expect(set.previous).not.toHaveProperty('d');
  });
});

describe('loadSigningKeys', () => {
  it('publishes current and previous public keys and nothing private', async () => {
    const set = await rotateSigningKeySet(await generateSigningKeySet());
    const keys = await loadSigningKeys(secretOf(set));

    expect(keys.current.kid).toBe(set.current.kid);
    const publicMembers = (jwk: SigningKeySet['current'] | SigningKeySet['previous']) => ({
      kty: 'OKP',
      crv: 'Ed25519',
      x: jwk?.x,
      kid: jwk?.kid,
      alg: 'EdDSA',
      use: 'sig',
    });
    expect(keys.jwks).toEqual({ keys: [publicMembers(set.current), publicMembers(set.previous)] });
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
