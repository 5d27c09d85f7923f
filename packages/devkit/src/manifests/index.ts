export {
  accessControl,
  chartValuesFile,
  chartValuesYaml,
  publicApp,
  withKafkaTopicList,
} from './chart.ts';
export { type CodeFacts, manifestProblems } from './check.ts';
export { daprRunFile, daprRunYaml } from './dapr-yaml.ts';
export { driftedFiles, renderAll, schemaFile, writeGenerated } from './generate.ts';
export { generatedHeader, generatedNote } from './header.ts';
export { loadManifests, manifestFile, manifestFolders, parseManifest } from './load.ts';
export {
  manifestScopes,
  pubsubFiles,
  renderPubsubFiles,
  scopesBlock,
  type TopicScopes,
  topicScopes,
  withScopes,
} from './pubsub-scopes.ts';
export { resiliencyFile, resiliencyYaml } from './resiliency.ts';
export { routeConflicts, routeMethod, type Upstream, upstreamTable } from './routes.ts';
export { manifestJsonSchema, type ServiceManifest, serviceManifest } from './schema.ts';
export {
  declaredConsumers,
  renderSubscriptions,
  subscriptionsFile,
  subscriptionsYaml,
} from './subscriptions.ts';
export { upstreamsFile, upstreamsModule } from './upstreams.ts';
