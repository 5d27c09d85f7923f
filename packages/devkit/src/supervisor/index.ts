export { type PollOptions, pollUntil } from '../process/poll.ts';
export { appEnvFromPrefixed, mergeAppEnv } from './app-env.ts';
export {
  type BrokerHandle,
  type BrokerProfile,
  brokerProfiles,
  isBrokerProfile,
  prepareBrokers,
  shopTopics,
} from './brokers/index.ts';
export { type CommandResult, runCommand, runProgram } from './commands.ts';
export { resolveDaprd } from './daprd.ts';
export { type FerretDBHandle, ferretdbTool, resolveFerretDB } from './ferretdb.ts';
export { type GoTool, resolveGoTool } from './go-tool.ts';
export {
  type BaseImage,
  debianMirror,
  ensureBaseImage,
  ensureBuildah,
  externalBaseImages,
  fullyQualified,
  type ImageFacts,
  imageAccount,
  imageSize,
  inspectImage,
  type Log,
  type MountedImage,
  mountImage,
  spawnImageEntrypoint,
  standInLabel,
} from './images.ts';
export {
  daprCustomResourceDefinitions,
  etcdTool,
  type KubeTools,
  kubeApiserverTool,
  kubectlTool,
  resolveKubeTools,
  startTestCluster,
  type TestCluster,
  testClusterContext,
} from './kube.ts';
export { type FakeNodes, resolveFakeNodeTools, startFakeNodes } from './kwok.ts';
export {
  type MailpitHandle,
  mailpitProcessName,
  mailpitTool,
  resolveMailpit,
  startMailpit,
} from './mailpit.ts';
export { findRepoRoot, loadManifest, type Manifest, type ManifestApp } from './manifest.ts';
export { freePorts } from './ports.ts';
export { type ExitInfo, ProcessGroup } from './processes.ts';
export { pingRedis } from './redis.ts';
export {
  ensureLocalSecrets,
  ensureRedisPassword,
  keptSecret,
  randomSecret,
} from './secrets.ts';
export {
  brokerFromEnv,
  profileResourcesPaths,
  type RunningApp,
  type RunningShop,
  type ShopOptions,
  type StateStoreProfile,
  startShop,
  stateStoreFromEnv,
  stateStoreProfiles,
} from './shop.ts';
export {
  type RunningStripeMock,
  resolveStripeMock,
  startStripeMock,
  stripeMockTool,
} from './stripe-mock.ts';
export { ensureDebianProgram, findExecutables } from './system.ts';
export { resolveTilt, tiltVersion } from './tilt.ts';
export {
  copyWithOpenTopics,
  topicScopesBegin,
  topicScopesEnd,
  withoutTopicScopes,
} from './topic-scopes.ts';
export { resolveVegeta, vegetaTool } from './vegeta.ts';
