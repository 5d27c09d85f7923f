import { createMiddleware } from 'hono/factory';
import { AppError } from '../errors.ts';
import type { Role } from './access-token.ts';
import type { TokenVerifier, VerifiedAccessToken } from './verifier.ts';

/** The caller, as proven by a verified access token. */
export type AuthenticatedUser = {
  id: string;
  role: Role;
  /** The token's `jti`. */
  tokenId: string;
  /** The token's `exp`, in epoch seconds. */
  expiresAt: number;
  /** The token's `sid`: the login (refresh-token family) it belongs to; older tokens lack it. */
  sessionId?: string;
  /** The token's `email_verified` claim; false for tokens without it. */
  emailVerified: boolean;
};

declare module 'hono' {
  interface ContextVariableMap {
    /** Set by `authenticate()`; present on every route it guards. */
    user: AuthenticatedUser;
  }
}

const realm = 'shop';
// RFC 6750 section 2.1: the scheme, then exactly one b64token.
const bearerCredentials = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

// RFC 6750 section 3: no error code when the request carried no bearer credentials at all,
// so a client that did not know it had to log in is not told its token is bad.
function challenge(error?: { code: string; description: string }): string {
  if (!error) return `Bearer realm="${realm}"`;
  const description = error.description.replaceAll(/["\\]/g, '');
  return `Bearer realm="${realm}", error="${error.code}", error_description="${description}"`;
}

function unauthenticated(detail: string, error?: { code: string; description: string }) {
  return new AppError('unauthenticated', detail, {
    headers: { 'www-authenticate': challenge(error) },
  });
}

function authenticatedUser(verified: VerifiedAccessToken): AuthenticatedUser {
  const user = {
    id: verified.userId,
    role: verified.role,
    tokenId: verified.jti,
    expiresAt: Math.floor(verified.expiresAt.getTime() / 1000),
    emailVerified: verified.emailVerified,
  };
  return verified.sessionId === undefined ? user : { ...user, sessionId: verified.sessionId };
}

/**
 * Admits only requests with a valid access token in `Authorization: Bearer <token>` and
 * sets `c.get('user')`. Every service mounts it itself: a token is verified wherever it is
 * used, never taken on trust from a header the gateway or anyone else forwarded.
 *
 * @example
 * app.use('/api/v1/orders/*', authenticate(verifier));
 * app.get('/api/v1/orders', async (c) => c.json(await listOrders(c.get('user').id)));
 */
export function authenticate(verifier: Pick<TokenVerifier, 'verify'>) {
  return createMiddleware(async (c, next) => {
    const header = c.req.header('authorization');
    if (!header || !/^bearer(\s|$)/i.test(header)) {
      throw unauthenticated('an access token is required (Authorization: Bearer <token>)');
    }
    const token = bearerCredentials.exec(header)?.[1];
    if (!token) {
      const description = 'the Authorization header must be Bearer and exactly one token';
      throw unauthenticated(description, { code: 'invalid_request', description });
    }
    let verified: VerifiedAccessToken;
    try {
      verified = await verifier.verify(token);
    } catch (error) {
      if (error instanceof AppError && error.code === 'unauthenticated') {
        throw unauthenticated(error.message, { code: 'invalid_token', description: error.message });
      }
      throw error;
    }
    c.set('user', authenticatedUser(verified));
    await next();
  });
}

/**
 * Admits only authenticated users holding one of the roles; mount after `authenticate()`.
 *
 * @example
 * products.post('/', authenticate(verifier), requireRole('admin'), async (c) => { ... });
 */
export function requireRole(...allowed: Role[]) {
  return createMiddleware(async (c, next) => {
    // Typed as always present, but absent at run time when authenticate() was not mounted.
    const user: AuthenticatedUser | undefined = c.get('user');
    if (!user) throw new Error('requireRole() must run after authenticate()');
    if (!allowed.includes(user.role)) {
      throw new AppError('forbidden', `this needs the ${allowed.join(' or ')} role`, {
        headers: {
          'www-authenticate': challenge({
            code: 'insufficient_scope',
            description: `the ${allowed.join(' or ')} role is required`,
          }),
        },
      });
    }
    await next();
  });
}
