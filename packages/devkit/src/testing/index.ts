export {
  inCI,
  MissingCapabilityError,
  skipWhenMissing,
  unlessMissing,
} from './capability.ts';
export {
  adminOrders,
  checkoutsThroughFault,
  createProductWithStock,
  type FaultRunResult,
  type Placement,
  paymentsOf,
  placeOrder,
  readJson,
  runPool,
  stockOf,
  timelineOf,
  waitForSettled,
  waitForTerminal,
} from './checkout.ts';
export {
  type DatabaseBackend,
  databaseBackends,
  openTestDatabase,
  recordingLogger,
  silentLogger,
  type TestDatabase,
  useTestDatabase,
} from './database.ts';
export { type EventProbe, startEventProbe } from './event-probe.ts';
export {
  type EventStreamReader,
  readEventStream,
  type ServerSentEvent,
} from './event-stream.ts';
export {
  type DeliveredEvent,
  type EnvelopeOverrides,
  eventFixture,
  type FixtureData,
} from './events.ts';
export { failureReport } from './failure-report.ts';
export { fakeCatalog } from './fake-catalog.ts';
export { checkInvariants, type InvariantOptions, type Violation } from './invariants.ts';
export { seriesValue } from './metrics.ts';
export { startTestMongo, type TestMongo, useTestMongo } from './mongo.ts';
export {
  allPanels,
  asPromQL,
  type Dashboard,
  dashboardExpressions,
  type Expression,
  isKnownMetric,
  metricNames,
  type Panel,
  readDashboards,
  readRules,
  unknownMetrics,
} from './observability-files.ts';
export {
  type ObservedResponse,
  type OpenApiDocument,
  openApiResponseChecker,
  responseMismatches,
  undocumentedRoutes,
} from './openapi-conformance.ts';
export { describeOperationFuzz, type OperationFuzzOptions } from './operation-fuzz.ts';
export { startPostgres, type TestPostgres } from './postgres.ts';
export { startTestRedis, type TestRedis } from './redis.ts';
export { describeServiceContract, type ServiceContractOptions } from './service-contract.ts';
export {
  type CallOptions,
  recordingPublisher,
  type ServiceAppDeps,
  type ServiceAppHarness,
  type ServiceCall,
  serviceCaller,
  useServiceApp,
} from './service-harness.ts';
export { handledDeliveries, startTestShop, type TestShop } from './shop.ts';
export {
  everyPage,
  type OrderView,
  type Page,
  type PaymentView,
  type StockView,
  type TimelineEntry,
} from './shop-views.ts';
export { createTestTokens, testTokenSettings } from './tokens.ts';
export { viaSidecar } from './via-sidecar.ts';
