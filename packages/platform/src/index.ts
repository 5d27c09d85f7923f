export { accessTokenEnv, databaseEnv, loadConfig, type ServiceEnv, serviceEnv } from './config.ts';
export { type RequestContext, requestContext } from './context.ts';
export { CircuitOpenError } from './dapr/breaker.ts';
export { createSidecar, pubsubName, type Sidecar, type SidecarConfig } from './dapr/sidecar.ts';
export {
  AppError,
  type ErrorCode,
  type FieldError,
  type Problem,
  problemContentType,
  problemResponse,
} from './errors.ts';
export {
  buildEvent,
  parseEvent,
  type ReceivedEvent,
  type ShopEvent,
  type VersionedEvent,
} from './events/cloud-event.ts';
export {
  type ConsumedEvents,
  createEventConsumer,
  createMemoryDeadLetterStore,
  type DeadLetter,
  type DeadLetterStore,
  type Delivery,
  defineConsumer,
  type EventConsumerDefinition,
  type EventHandlers,
} from './events/consumer.ts';
export {
  type EventData,
  type EventType,
  type EventVersion,
  eventCatalog,
} from './events/schemas.ts';
export {
  createRouter,
  createServiceApp,
  type ReadinessChecks,
  type ServiceApp,
  type ServiceAppOptions,
} from './http/app.ts';
export { decodeCursor, encodeCursor, pageOf, pageQuery } from './http/pagination.ts';
export { isDaprOnlyPath } from './http/dapr-paths.ts';
export {
  bearerSecurity,
  openApiDocumentPath,
  type ProblemStatus,
  problemResponses,
} from './http/openapi.ts';
export { requireCaller } from './http/require-caller.ts';
export { type RunServiceOptions, runService } from './http/serve.ts';
export { createLogger, type Logger, type LogLevel } from './logger.ts';
export { serviceDefaults } from './service-defaults.ts';
