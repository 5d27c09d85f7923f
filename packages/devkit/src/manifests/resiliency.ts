import type { Document, YAMLMap } from 'yaml';
import type { ServiceManifest } from './schema.ts';
import { parseYaml, printYaml, setGenerated, wrapComment } from './yaml-edit.ts';

export const resiliencyFile = 'components/common/resiliency.yaml';

/**
 * Each app's invoke target: Dapr's invoke timeout and retries, the timeout left out where
 * the manifest says why (a stream that stays open).
 */
function appTargets(doc: Document, manifests: readonly ServiceManifest[]) {
  const apps = doc.createNode({}) as YAMLMap;
  for (const m of manifests) {
    const target =
      m.resiliency?.invokeTimeout === false
        ? { retry: 'invoke' }
        : { timeout: 'invoke', retry: 'invoke' };
    const pair = doc.createPair(m.appId, doc.createNode(target, { flow: true }));
    if (m.resiliency)
      (pair.key as { commentBefore?: string }).commentBefore = wrapComment(m.resiliency.why);
    apps.add(pair);
  }
  return apps;
}

/** resiliency.yaml with its app targets as the manifests make them. */
export function resiliencyYaml(current: string, manifests: readonly ServiceManifest[]): string {
  const doc = parseYaml(current, resiliencyFile);
  setGenerated(doc, ['spec', 'targets', 'apps'], appTargets(doc, manifests), resiliencyFile);
  return printYaml(doc);
}
