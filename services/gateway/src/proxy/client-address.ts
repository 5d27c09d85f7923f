import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/**
 * The client's address for per-address limits. With no proxy in front it is the socket's
 * peer; behind `trustedHops` proxies (an ingress, a load balancer) it is the entry those
 * proxies appended to X-Forwarded-For. Entries a client wrote itself are never trusted.
 */
export function clientAddress(c: Context, trustedHops: number): string | undefined {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    peer = undefined; // no socket (an in-process test request)
  }
  if (trustedHops === 0) return peer;
  const chain = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (peer) chain.push(peer);
  return chain[Math.max(0, chain.length - 1 - trustedHops)];
}
