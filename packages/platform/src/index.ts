export {
  type CatalogClient,
  type CatalogProduct,
  catalogViaDapr,
} from './clients/catalog.ts';
export { type Clock, systemClock, withinMs } from './clock.ts';
export { accessTokenEnv, databaseEnv, serviceEnv, shopCurrencyEnv } from './config.ts';
export { CircuitOpenError } from './dapr/breaker.ts';
export type { SaveStateOptions, Sidecar, StateEntry } from './dapr/sidecar.ts';
export { createSidecar } from './dapr/sidecar.ts';
export { AppError, type Problem, problemContentType } from './errors.ts';
export {
  buildEvent,
  parseEvent,
  type ShopEvent,
  type VersionedEvent,
} from './events/cloud-event.ts';
export {
  type ConsumedEvents,
  createMemoryDeadLetterStore,
  type DeadLetterStore,
  defineConsumer,
  type EventHandlers,
} from './events/consumer.ts';
export {
  type CurrentVersion,
  cancelReasons,
  type EventData,
  type EventType,
  eventCatalog,
} from './events/schemas.ts';
export { createRouter, createServiceApp } from './http/app.ts';
export { isDaprOnlyPath } from './http/dapr-paths.ts';
export { keysetPage } from './http/keyset-page.ts';
export { metricsText } from './http/metrics.ts';
export {
  bearerScheme,
  bearerSecurity,
  openApiDocumentPath,
  problemResponses,
} from './http/openapi.ts';
export { decodeCursor, encodeCursor, pageOf, pageQuery, pgInteger } from './http/pagination.ts';
export { requireCaller } from './http/require-caller.ts';
export { listenService, runService } from './http/serve.ts';
export {
  createServiceAppBehindGateway,
  type ServiceAppBasics,
} from './http/service-wiring.ts';
export { multilineText, singleLineText } from './http/text.ts';
export { createLogger, type Logger } from './logger.ts';
export { serviceDefaults } from './service-defaults.ts';
export { currentTraceparent, inStoredTrace } from './tracing/stored-trace.ts';
