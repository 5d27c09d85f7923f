import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServerType } from '@hono/node-server';

// Node's parser refuses a malformed or oversized request before any route sees it and
// answers in plain text; the gateway is public, so that answer too is problem+json.
function problemResponse(status: 400 | 431, title: string, detail: string): string {
  const body = JSON.stringify({
    type: `urn:shop:problem:${status === 431 ? 'headers-too-large' : 'bad-request'}`,
    title,
    status,
    detail,
  });
  return [
    `HTTP/1.1 ${status} ${title}`,
    'content-type: application/problem+json',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // A connection reset or timed out has no one to answer.
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const answer =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? problemResponse(431, 'Request header fields too large', 'the request head is too large')
      : problemResponse(400, 'Bad request', 'the request is not valid HTTP/1.1');
  socket.end(answer);
}

/** Answers requests Node's HTTP parser refuses with problem+json instead of plain text. */
export function answerParseErrorsAsProblems(server: ServerType): void {
  (server as Server).on('clientError', answerClientError);
}
