import { z } from 'zod';

const milliseconds = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** The live stream's settings. */
export const streamEnv = z.object({
  /**
   * How often each replica asks its store for what its open streams have not seen: the
   * repair path, for a notification whose push or broadcast was lost (or a shop deployed
   * without the `broadcast` component, where it is the only path between replicas).
   */
  STREAM_POLL_INTERVAL_MS: milliseconds(5_000),
  /**
   * How long a stream holds a notification whose seq does not follow the last one sent (a
   * user's seqs are contiguous, so only after a lost or duplicate insert, or two replicas
   * inserting for one user at once), plus up to a poll, for the missing one to appear.
   */
  STREAM_GAP_WAIT_MS: milliseconds(1_000),
  /** A comment on every open stream this often, so idle connections stay open. */
  STREAM_HEARTBEAT_MS: milliseconds(15_000),
  /** The most streams one user may hold open, counted across every replica. */
  STREAM_MAX_PER_USER: z.coerce.number().int().min(1).max(100).default(5),
  /** The most streams one replica holds open, for all users together. */
  STREAM_MAX_PER_REPLICA: z.coerce.number().int().min(1).default(1_000),
  /**
   * How long an open stream's lease (its slot in the user's count) lasts unless renewed: a
   * crashed replica's slots are free again after this. Also the Retry-After of a refusal.
   */
  STREAM_LEASE_TTL_MS: milliseconds(30_000),
  /**
   * How often a replica renews its streams' leases, and so how soon it ends the streams of
   * a session signed out on any replica. Well below STREAM_LEASE_TTL_MS.
   */
  STREAM_LEASE_RENEW_MS: milliseconds(5_000),
});
