import { trace } from '@opentelemetry/api';
import { requestContext } from './context.ts';
import { traceIdOf } from './tracing/spans.ts';

const levels = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof levels;
type Fields = Record<string, unknown>;

export type Logger = {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
};

function serialize(value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  return value;
}

/**
 * One JSON object per line on stdout, with the current request's id and the trace id of the
 * active span (else of the current request).
 *
 * @example
 * const log = createLogger({ service: 'users', level: 'info' });
 * log.info('user registered', { userId });
 */
export function createLogger(options: {
  service: string;
  level?: LogLevel;
  write?: (line: string) => void;
  fields?: Fields;
}): Logger {
  const threshold = levels[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const base = { service: options.service, ...options.fields };

  const log = (level: LogLevel, msg: string, fields?: Fields) => {
    if (levels[level] < threshold) return;
    const ctx = requestContext.getStore();
    const entry: Fields = { time: new Date().toISOString(), level, msg, ...base };
    if (ctx) entry.requestId = ctx.requestId;
    // The active span's trace first: work outside a request (the outbox relay) has one too.
    const traceId = traceIdOf(trace.getActiveSpan()) ?? ctx?.traceId;
    if (traceId) entry.traceId = traceId;
    for (const [key, value] of Object.entries(fields ?? {})) entry[key] = serialize(value);
    write(`${JSON.stringify(entry)}\n`);
  };

  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    child: (fields) => createLogger({ ...options, fields: { ...options.fields, ...fields } }),
  };
}
