import { randomUUID } from 'node:crypto';
import { AppError, type Logger } from '@shop/platform';
import type { z } from 'zod';
import type { NotificationsDb } from '../database.ts';
import type { streamEnv } from './config.ts';
import {
  isSignedOut,
  purgeStreamLeases,
  releaseSlot,
  renewSlots,
  type StreamHolder,
  type StreamLeaseStore,
  streamLeaseStore,
  takeSlot,
} from './leases.ts';

/** Why a stream ends before its client or the replica ends it. */
export type StreamEndReason = 'signed_out' | 'lease_lost';

/** An admitted stream's hold on its slots; `release` once it has closed. */
export type StreamAdmission = {
  /** Resolves when the stream must end: its session signed out, or its lease lost. */
  readonly ended: Promise<StreamEndReason>;
  release(): Promise<void>;
};

export type StreamLimits = {
  /** Takes a slot of the user's and of this replica's, or throws 429 (or 401 when signed out). */
  admit(holder: StreamHolder): Promise<StreamAdmission>;
  /** Renews this replica's leases and ends the streams signed out or lost (run every few s). */
  renew(): Promise<void>;
  /** Streams admitted on this replica and not yet released (or being admitted). */
  open(): number;
};

export type StreamLimitsOptions = {
  store: StreamLeaseStore;
  logger: Logger;
  /** Names this replica on its leases. */
  replicaId: string;
  maxPerUser: number;
  maxPerReplica: number;
  leaseTtlMs: number;
  clock?: () => Date;
};

type Held = { holder: StreamHolder; end(reason: StreamEndReason): void };

/** Retry-After of a refusal: the lease TTL, the longest a crashed replica's slot stays taken. */
const retryAfter = (options: StreamLimitsOptions) => ({
  'retry-after': String(Math.ceil(options.leaseTtlMs / 1000)),
});

function refusal(options: StreamLimitsOptions, detail: string) {
  return new AppError('rate_limited', detail, { headers: retryAfter(options) });
}

/** The store is down: the client reconnects later, as after any dropped stream. */
function unavailable(options: StreamLimitsOptions, error: unknown) {
  options.logger.warn('a stream could not take its slot', { error });
  return new AppError('upstream_unavailable', 'streams are unavailable; try again shortly', {
    headers: retryAfter(options),
  });
}

/** Takes a slot of the user's, or throws 429 (or 401 when its session has signed out). */
async function takeOrRefuse(options: StreamLimitsOptions, now: Date, holder: StreamHolder) {
  const { store } = options;
  const lease = await takeSlot(store, {
    ...holder,
    replicaId: options.replicaId,
    limit: options.maxPerUser,
    ttlMs: options.leaseTtlMs,
    now,
  });
  if (!lease) {
    throw refusal(
      options,
      `at most ${options.maxPerUser} notification streams may be open per user`,
    );
  }
  // After the slot is taken: a sign-out recorded before it is seen here, one after it
  // marks this lease, so a stream of an ended session never stays open.
  if (await isSignedOut(store, holder)) {
    await releaseSlot(store, lease.leaseId);
    throw new AppError('unauthenticated', 'the session of this token has ended');
  }
  return lease.leaseId;
}

/** Holds the admitted stream until `release`; `ended` resolves when renewal ends it. */
function holdStream(
  options: StreamLimitsOptions,
  held: Map<string, Held>,
  leaseId: string,
  holder: StreamHolder,
): StreamAdmission {
  let end: (reason: StreamEndReason) => void = () => {};
  const ended = new Promise<StreamEndReason>((resolve) => {
    end = resolve;
  });
  held.set(leaseId, { holder, end });
  return {
    ended,
    async release() {
      if (!held.delete(leaseId)) return;
      await releaseSlot(options.store, leaseId).catch((error) =>
        // It expires on its own after the TTL.
        options.logger.warn('a stream lease could not be released', { error }),
      );
    },
  };
}

/**
 * Admission for the live stream: at most `maxPerUser` open streams per user across all
 * replicas (a lease per stream in the shared store, see leases.ts) and `maxPerReplica` on
 * this one. A refusal is 429 with Retry-After: the lease TTL, the longest a crashed
 * replica's slot stays taken.
 */
export function createStreamLimits(options: StreamLimitsOptions): StreamLimits {
  const clock = options.clock ?? (() => new Date());
  const held = new Map<string, Held>();
  let opening = 0;
  return {
    async admit(holder) {
      // Counted before the first await, so concurrent opens cannot all pass the check.
      if (held.size + opening >= options.maxPerReplica) {
        throw refusal(options, 'this replica holds as many notification streams as it may');
      }
      opening++;
      try {
        const leaseId = await takeOrRefuse(options, clock(), holder);
        return holdStream(options, held, leaseId, holder);
      } catch (error) {
        throw error instanceof AppError ? error : unavailable(options, error);
      } finally {
        opening--;
      }
    },
    async renew() {
      const states = await renewSlots(options.store, [...held.keys()], clock(), options.leaseTtlMs);
      for (const [leaseId, stream] of held) {
        if (states.signedOut.has(leaseId)) stream.end('signed_out');
        else if (states.lost.has(leaseId)) stream.end('lease_lost');
      }
    },
    open: () => held.size + opening,
  };
}

/**
 * This replica's stream limits over the service's database, with the lease renewal and an
 * hourly purge of what crashed replicas and ended sessions left on its lifecycle.
 *
 * @example
 * const limits = startStreamLimits({ db: database.db, logger, config, lifecycle });
 */
export function startStreamLimits(deps: {
  db: NotificationsDb;
  logger: Logger;
  config: z.infer<typeof streamEnv>;
  lifecycle: { every(name: string, intervalMs: number, job: () => Promise<unknown>): void };
}): StreamLimits {
  const { config } = deps;
  if (config.STREAM_LEASE_RENEW_MS * 2 > config.STREAM_LEASE_TTL_MS) {
    throw new Error('STREAM_LEASE_RENEW_MS must be at most half of STREAM_LEASE_TTL_MS');
  }
  const store = streamLeaseStore(deps.db);
  const limits = createStreamLimits({
    store,
    logger: deps.logger,
    replicaId: randomUUID(),
    maxPerUser: config.STREAM_MAX_PER_USER,
    maxPerReplica: config.STREAM_MAX_PER_REPLICA,
    leaseTtlMs: config.STREAM_LEASE_TTL_MS,
  });
  deps.lifecycle.every('stream lease renewal', config.STREAM_LEASE_RENEW_MS, () => limits.renew());
  // Sign-out records outlive every access token of their session (15 minutes by default).
  deps.lifecycle.every('stream lease purge', 60 * 60_000, () =>
    purgeStreamLeases(store, new Date(), { graceMs: 60 * 60_000, keepMs: 24 * 60 * 60_000 }),
  );
  return limits;
}
