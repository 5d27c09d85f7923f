import { AsyncLocalStorage } from 'node:async_hooks';

export type RequestContext = { requestId: string; traceId?: string; traceparent?: string };

/** Carries the current request's ids through every await, so any log line can name them. */
export const requestContext = new AsyncLocalStorage<RequestContext>();
