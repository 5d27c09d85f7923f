export { type FerretDBHandle, ferretdbTool, resolveFerretDB } from './ferretdb.ts';
export {
  type JaegerHandle,
  jaegerConfig,
  jaegerProcessName,
  jaegerTool,
  resolveJaeger,
  startJaeger,
} from './jaeger.ts';
export {
  type MailpitHandle,
  mailpitProcessName,
  mailpitTool,
  resolveMailpit,
  startMailpit,
} from './mailpit.ts';
export {
  ensurePrometheus,
  type PrometheusHandle,
  prometheusConfig,
  prometheusProcessName,
  type ScrapeTarget,
  startPrometheus,
} from './prometheus-server.ts';
export { ensurePromtool, prometheusDebianPackage, whyNoPromtool } from './prometheus-tools.ts';
export { pingRedis } from './redis.ts';
export { ensureLocalSecrets, ensureRedisPassword, keptSecret, randomSecret } from './secrets.ts';
export {
  type RunningStripeMock,
  resolveStripeMock,
  startStripeMock,
  stripeMockTool,
} from './stripe-mock.ts';
