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
