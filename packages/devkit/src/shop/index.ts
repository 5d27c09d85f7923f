export { appEnvFromPrefixed, mergeAppEnv } from './app-env.ts';
export { loadManifest, type Manifest, type ManifestApp } from './manifest.ts';
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
  copyWithOpenTopics,
  topicScopesBegin,
  topicScopesEnd,
  withoutTopicScopes,
} from './topic-scopes.ts';
