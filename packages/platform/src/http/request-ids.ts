import { randomBytes, randomUUID } from 'node:crypto';

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** Keeps a caller's request id when it is safe to echo into logs and headers, else makes one. */
export function requestIdFrom(header: string | undefined): string {
  return header && requestIdPattern.test(header) ? header : randomUUID();
}

/** Parses a W3C traceparent; a missing or malformed one starts a new sampled trace. */
export function traceFrom(header: string | undefined): { traceId: string; traceparent: string } {
  const match = header ? traceparentPattern.exec(header) : null;
  if (match?.[1] && !/^0+$/.test(match[1]))
    return { traceId: match[1], traceparent: header as string };
  const traceId = randomBytes(16).toString('hex');
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}
