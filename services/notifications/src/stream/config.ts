import { z } from 'zod';

const milliseconds = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** The live stream's settings. */
export const streamEnv = z.object({
  /** How often each replica asks its store for what its open streams have not seen. */
  STREAM_POLL_INTERVAL_MS: milliseconds(1_000),
  /** How long a stream waits for a missing seq before it moves past it. */
  STREAM_GAP_WAIT_MS: milliseconds(2_000),
  /** A comment on every open stream this often, so idle connections stay open. */
  STREAM_HEARTBEAT_MS: milliseconds(15_000),
});
