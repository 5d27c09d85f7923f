export { helmTool, resolveHelm } from './helm.ts';
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
