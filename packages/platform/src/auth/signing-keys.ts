import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { calculateJwkThumbprint, type JSONWebKeySet } from 'jose';
import { z } from 'zod';
import { signingAlgorithm } from './access-token.ts';

/**
 * The name of the Dapr secret holding the signing keys, and of its one entry. The entry's
 * value is the key set as a JSON *string*: Dapr's local file secret store flattens nested
 * objects into entries of their own and Kubernetes secret values are flat strings, so a string
 * is the one shape every secret store hands back unchanged.
 */
export const signingKeysSecretName = 'jwt-signing-keys';

// Ed25519 keys (public `x`, private seed `d`) are 32 bytes: 43 base64url characters.
const ed25519Bytes = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes in base64url');

const publicSigningJwk = z.object({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  alg: z.literal(signingAlgorithm),
  // The kid travels in every token header; keeping it to base64url keeps it log- and header-safe.
  kid: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be 1-128 base64url characters'),
  x: ed25519Bytes,
});

const privateSigningJwk = publicSigningJwk.extend({ d: ed25519Bytes });

const signingKeySetSchema = z
  .object({
    current: privateSigningJwk,
    // Published before it signs anything, so every verifier already holds it when a
    // rotation promotes it: no verifier ever meets a kid it has to go and fetch.
    next: privateSigningJwk.optional(),
    // Only verification needs the previous key, so its private part is dropped on rotation
    // (and stripped here should one be written by hand).
    previous: publicSigningJwk.optional(),
  })
  .refine((set) => set.previous?.kid !== set.current.kid, {
    message: 'the previous key must have a kid of its own',
    path: ['previous', 'kid'],
  })
  .refine(
    (set) =>
      set.next === undefined ||
      (set.next.kid !== set.current.kid && set.next.kid !== set.previous?.kid),
    {
      message: 'the next key must have a kid of its own',
      path: ['next', 'kid'],
    },
  );

/** The value of the signing-keys secret: the key that signs now, the one that will, and the one it replaced. */
export type SigningKeySet = z.infer<typeof signingKeySetSchema>;

/** A private key ready to sign with, and the kid that goes into each token's header. */
export type SigningKey = { kid: string; privateKey: KeyObject };

/** What a keyring holds: the key to sign with and the public keys to publish as the JWKS. */
export type SigningKeys = { current: SigningKey; jwks: JSONWebKeySet };

async function generatePrivateJwk(): Promise<SigningKeySet['current']> {
  const { x, d } = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  const publicPart = { kty: 'OKP', crv: 'Ed25519', x } as const;
  // The RFC 7638 thumbprint makes kids unique without coordination and lets anyone check one.
  const kid = await calculateJwkThumbprint(publicPart);
  return privateSigningJwk.parse({ ...publicPart, alg: signingAlgorithm, kid, d });
}

/**
 * A new key set with a fresh current key, a fresh next key and no previous one: the first
 * value of the signing-keys secret. Store it as a JSON string under {@link signingKeysSecretName}.
 *
 * @example
 * const secrets = { [signingKeysSecretName]: JSON.stringify(await generateSigningKeySet()) };
 * await writeFile('secrets.json', JSON.stringify(secrets));
 */
export async function generateSigningKeySet(): Promise<SigningKeySet> {
  return { current: await generatePrivateJwk(), next: await generatePrivateJwk() };
}

/**
 * The key set after one rotation: the published next key starts signing, a fresh next key is
 * published, and the old current key, without its private part, stays as the previous one.
 * Tokens it signed stay valid until they expire; tokens of the key before it stop being accepted.
 *
 * @example
 * const rotated = await rotateSigningKeySet(parseSigningKeySet(stored));
 * await store.put(signingKeysSecretName, JSON.stringify(rotated));
 */
export async function rotateSigningKeySet(existing: SigningKeySet): Promise<SigningKeySet> {
  // Parsing as a public key strips `d`: the old private key is not kept anywhere.
  const previous = publicSigningJwk.parse(existing.current);
  return {
    current: existing.next ?? (await generatePrivateJwk()),
    next: await generatePrivateJwk(),
    previous,
  };
}

/**
 * Parses and validates the JSON string stored in the signing-keys secret. Errors name the
 * faulty fields but never quote the value, which is private key material.
 *
 * @example
 * const set = parseSigningKeySet(secrets[signingKeysSecretName]);
 */
export function parseSigningKeySet(json: string): SigningKeySet {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    // V8's own message quotes the text around the fault, which here would be a private key.
    throw new Error(`the ${signingKeysSecretName} secret is not valid JSON`);
  }
  const result = signingKeySetSchema.safeParse(value);
  if (!result.success) {
    const faults = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`the ${signingKeysSecretName} secret is malformed: ${faults.join('; ')}`);
  }
  return result.data;
}

function importPrivateKey(jwk: SigningKeySet['current']): KeyObject {
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
  // A hand-edited secret whose x is not d's public half would publish a key that verifies
  // none of the tokens signed with d; refuse it here rather than fail every login.
  if (createPublicKey(privateKey).export({ format: 'jwk' }).x !== jwk.x) {
    throw new Error(
      `the ${signingKeysSecretName} secret's key ${jwk.kid} has an x that is not d's`,
    );
  }
  return privateKey;
}

function toPublicJwk(jwk: NonNullable<SigningKeySet['previous']>) {
  // Built field by field so nothing private can ever reach the published set.
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: jwk.kid, alg: jwk.alg, use: 'sig' };
}

/**
 * Reads the signing-keys secret through Dapr and turns it into keys to sign with and the
 * JWKS to publish. `getSecret` returns the secret's entries as Dapr answers them
 * (`{ "jwt-signing-keys": "<JSON string>" }`); the SDK types that answer as `object`.
 *
 * @example
 * const load = () =>
 *   loadSigningKeys(() => sidecar.getSecret('secretstore', signingKeysSecretName));
 * const keyring = await createKeyring({ load, logger });
 */
export async function loadSigningKeys(getSecret: () => Promise<object>): Promise<SigningKeys> {
  const entries = await getSecret();
  const value: unknown = Reflect.get(entries, signingKeysSecretName);
  if (typeof value !== 'string') {
    const names = Object.keys(entries).join(', ') || 'none';
    throw new Error(
      `the ${signingKeysSecretName} secret has no "${signingKeysSecretName}" entry holding a JSON string (entries: ${names})`,
    );
  }
  const set = parseSigningKeySet(value);
  const published = [set.current, set.next, set.previous].filter((key) => key !== undefined);
  // The next key is checked now, not when a rotation makes it sign.
  if (set.next) importPrivateKey(set.next);
  return {
    current: { kid: set.current.kid, privateKey: importPrivateKey(set.current) },
    jwks: { keys: published.map(toPublicJwk) },
  };
}
