export { type FerretDBHandle, ferretdbTool, resolveFerretDB } from './ferretdb.ts';
export {
  type MailpitHandle,
  mailpitProcessName,
  mailpitTool,
  resolveMailpit,
  startMailpit,
} from './mailpit.ts';
export { ensurePromtool, prometheusDebianPackage, whyNoPromtool } from './prometheus-tools.ts';
export { pingRedis } from './redis.ts';
export { ensureLocalSecrets, ensureRedisPassword, keptSecret, randomSecret } from './secrets.ts';
export {
  type RunningStripeMock,
  resolveStripeMock,
  startStripeMock,
  stripeMockTool,
} from './stripe-mock.ts';
