import type { Logger } from '@shop/platform';
import { Counter, type Registry } from 'prom-client';

// At most one warning per interval while the store is down, however many requests pass.
const warningIntervalMs = 10_000;

/**
 * What a check over the gateway's Redis does when Redis does not answer: the request goes
 * on unchecked, counted in `metric` (by `labels`, where the metric has `labelNames`) and
 * warned about at most once per 10 s of `now` (with how many went unchecked since the last
 * warning), so an outage neither stops the shop nor floods the log.
 *
 * @example
 * const uncheckedRevocation = failOpen({ logger, registry, metric: 'gateway_revocation_unchecked_total', help: '...', warning: 'revoked tokens unknown; tokens pass unchecked' });
 * try { await redis.exists(key) } catch (error) { uncheckedRevocation(error) }
 */
export function failOpen(options: {
  logger: Logger;
  registry: Registry;
  metric: string;
  help: string;
  warning: string;
  labelNames?: readonly string[];
  now?: (() => number) | undefined;
}): (error: unknown, labels?: Record<string, string>) => void {
  const now = options.now ?? Date.now;
  const counter = new Counter({
    name: options.metric,
    help: options.help,
    labelNames: options.labelNames ?? [],
    registers: [options.registry],
  });
  let lastWarning = Number.NEGATIVE_INFINITY;
  let uncheckedSinceWarning = 0;
  return (error, labels = {}) => {
    counter.inc(labels);
    uncheckedSinceWarning += 1;
    if (now() - lastWarning < warningIntervalMs) return;
    options.logger.warn(options.warning, { ...labels, unchecked: uncheckedSinceWarning, error });
    lastWarning = now();
    uncheckedSinceWarning = 0;
  };
}
