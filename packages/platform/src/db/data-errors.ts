// PostgreSQL's class 22, "data exception": 22P05 untranslatable character (a NUL in text),
// 22003 numeric value out of range, 22021 bad byte sequence, 22007/22008 bad datetime...
const dataExceptionCode = /^22[0-9A-Z]{3}$/;

/**
 * Whether the database (pg or PGlite, which both carry the SQLSTATE as `.code`) refused a
 * value itself: the request carried something no validation caught, not a server fault.
 */
export function isDataException(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && typeof severity === 'string' && dataExceptionCode.test(code);
}

// SQLSTATE class 08 (connection exception), and the server shutting down or still starting:
// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (in recovery).
const unavailableCode = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;
const unreachableSocket = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);
// What pg says when the server died under a query or the pool could not connect in time.
const droppedConnection = /^Connection terminated|timeout exceeded when trying to connect/;
const ferretDbLostPostgres = /failed to connect to|SQLSTATE (08[0-9A-Z]{3}|57P0[123])/;

/**
 * Whether a database (PostgreSQL through pg, or a document store through the MongoDB
 * driver) could not be reached or is restarting: the request may well succeed in a moment,
 * so it is a 503, not a fault of the service (a 500).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && (unavailableCode.test(code) || unreachableSocket.has(code)))
    return true;
  if (typeof name === 'string' && /^Mongo(Network|ServerSelection|NotConnected)/.test(name))
    return true;
  // FerretDB's own PostgreSQL away: MaxTimeMSExpired (50), or PostgreSQL's error passed on.
  if (name === 'MongoServerError' && (code === 50 || ferretDbLostPostgres.test(String(message))))
    return true;
  return typeof message === 'string' && droppedConnection.test(message);
}
