export { appEnvFromPrefixed, mergeAppEnv } from './app-env.ts';
export { loadManifest, type Manifest, type ManifestApp } from './manifest.ts';
export {
  brokerFromEnv,
  type PlannedInstance,
  planShop,
  profileResourcesPaths,
  type RunningInfrastructure,
  type ShopPlan,
  serviceEnv,
  shopPortCount,
  sidecarEnv,
  stateStoreFromEnv,
  stateStoreProfiles,
} from './plan.ts';
export {
  type RunningApp,
  type RunningShop,
  type ShopOptions,
  type StateStoreProfile,
  startShop,
} from './shop.ts';
export {
  copyWithOpenTopics,
  topicScopesBegin,
  topicScopesEnd,
  withoutTopicScopes,
} from './topic-scopes.ts';
