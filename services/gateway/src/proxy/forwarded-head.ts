import { AppError } from '@shop/platform';
import type { Context } from 'hono';

/**
 * The largest request target, and the largest sum of forwarded header values, the gateway
 * passes on. The sidecars refuse a request head of about 10 KiB with a plain-text 431 of
 * their own; refusing earlier, as problem+json, keeps that answer ours and the limit known.
 */
export const maxForwardedBytes = 8_192;

// Node reads header bytes as Latin-1, so a byte such as 0xFF arrives as 'ÿ' and leaves as
// 0xFF again: not UTF-8, which daprd's gRPC hop refuses with a 500 of Dapr's own, and
// five of those would open the circuit to the service for every client.
const printableAscii = /^[\t\x20-\x7e]*$/;

/**
 * Refuses what the sidecars cannot carry, before the token is verified: 414 for a path and
 * query over the limit, 431 for forwarded headers over it, 400 for a header value that is
 * not printable ASCII.
 */
export function checkForwardedHead(c: Context, forwarded: Headers): void {
  const url = new URL(c.req.url);
  const target = Buffer.byteLength(`${url.pathname}${url.search}`);
  if (target > maxForwardedBytes) {
    throw new AppError(
      'uri_too_long',
      `the path and query may be at most ${maxForwardedBytes} bytes`,
    );
  }
  let headerBytes = target;
  for (const [name, value] of forwarded) {
    if (!printableAscii.test(value)) {
      throw new AppError('bad_request', `the ${name} header may hold printable ASCII only`);
    }
    headerBytes += name.length + value.length + 4;
  }
  if (headerBytes > maxForwardedBytes) {
    throw new AppError(
      'headers_too_large',
      `the path, query and forwarded headers may be at most ${maxForwardedBytes} bytes together`,
    );
  }
}
