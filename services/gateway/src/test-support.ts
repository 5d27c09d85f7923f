import { startTestRedis, type TestRedis } from '@shop/devkit/testing';
import { createLogger, type Logger } from '@shop/platform';
import type { TokenVerifier } from '@shop/platform/auth';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createApp } from './app.ts';
import type { RateLimitBudget } from './config.ts';
import { connectRateLimitStore, type RateLimitBudgets } from './rate-limit/index.ts';

export type Invoke = (appId: string, path: string, init: RequestInit) => Promise<Response>;

export const quietLogger = createLogger({ service: 'gateway', write: () => {} });

const roomy: RateLimitBudget = { requests: 1_000, windowSeconds: 60 };

/** A request from `address` (as the one trusted proxy in front says), with `token` if given. */
export function from(address: string, init: RequestInit & { token?: string } = {}): RequestInit {
  const { token, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set('x-forwarded-for', address);
  if (token) headers.set('authorization', `Bearer ${token}`);
  return { ...rest, headers };
}

/** A small GraphQL query (`{ categories { name } }`) from `address`, with `token` if given. */
export function graphqlFrom(address: string, token?: string): RequestInit {
  return from(address, {
    method: 'POST',
    ...(token && { token }),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ categories { name } }' }),
  });
}

/**
 * A gateway replica over the test Redis, one trusted proxy in front, every service
 * answering `invoke` (200 `{}` unless given); budgets roomy unless given. Disconnect the
 * returned `redis` client when done.
 */
export async function gatewayOverRedis(
  server: TestRedis,
  options: {
    verifier: Pick<TokenVerifier, 'verify'>;
    invoke?: Invoke;
    logger?: Logger;
    unverified?: RateLimitBudget;
    budgets?: Partial<RateLimitBudgets>;
    /** The gateway's clock (its warnings while Redis is down); Date.now unless given. */
    now?: () => number;
    /** How long access tokens live (ACCESS_TOKEN_TTL_SECONDS); the default unless given. */
    accessTokenTtlSeconds?: number;
  },
) {
  const logger = options.logger ?? quietLogger;
  const redis: Redis = connectRateLimitStore({ REDIS_HOST: server.address }, logger);
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  const budgets = {
    auth: roomy,
    search: roomy,
    checkout: roomy,
    default: roomy,
    ...options.budgets,
  };
  const app = createApp({
    config: {
      APP_API_TOKEN: 'gateway-app-token-0123456789',
      UPSTREAM_TIMEOUT_MS: 1_000,
      TRUSTED_PROXY_HOPS: 1,
      ACCESS_TOKEN_TTL_SECONDS: options.accessTokenTtlSeconds,
    },
    logger,
    sidecar: { invoke: options.invoke ?? (async () => Response.json({})), ready: async () => {} },
    verifier: options.verifier,
    rateLimits: { redis, budgets, ...(options.unverified && { unverified: options.unverified }) },
    now: options.now,
  });
  return { app, redis };
}

/** A verifier that counts its verifications, to show which requests were never verified. */
export function countingVerifier(verifier: Pick<TokenVerifier, 'verify'>) {
  const counted = {
    verifications: 0,
    verify(token: string) {
      counted.verifications += 1;
      return verifier.verify(token);
    },
  };
  return counted;
}

/**
 * A private Redis for one test file, emptied (and started again, if a test paused it)
 * before each test; clients given to `track` are disconnected after the file.
 */
export function useTestRedis() {
  let started: TestRedis | undefined;
  const clients: Redis[] = [];
  const server = () => {
    if (!started) throw new Error('the test Redis is not started yet');
    return started;
  };
  beforeAll(async () => {
    started = await startTestRedis();
  }, 30_000);
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await started?.stop();
  });
  beforeEach(async () => {
    await server().start();
    const admin = new Redis({ host: server().host, port: server().port });
    await admin.flushall();
    admin.disconnect();
  });
  return {
    get server() {
      return server();
    },
    track<T extends Redis>(client: T): T {
      clients.push(client);
      return client;
    },
    /** A gateway replica over this Redis (see gatewayOverRedis), its client closed after the file. */
    async replica(options: Parameters<typeof gatewayOverRedis>[1]) {
      const replica = await gatewayOverRedis(server(), options);
      clients.push(replica.redis);
      return replica.app;
    },
  };
}
