import { z } from 'zod';

const milliseconds = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** The live stream's settings. */
export const streamEnv = z.object({
  /** How often each replica asks its store for what its open streams have not seen. */
  STREAM_POLL_INTERVAL_MS: milliseconds(1_000),
  /**
   * The longest a notification takes from its seq to being visible; a notification that
   * does not follow the last one sent waits this long (plus up to a poll) for lower ones.
   */
  STREAM_GAP_WAIT_MS: milliseconds(1_000),
  /** A comment on every open stream this often, so idle connections stay open. */
  STREAM_HEARTBEAT_MS: milliseconds(15_000),
});
