import { openApiDocumentPath } from '@shop/platform';
import { type Document, isMap, type YAMLMap } from 'yaml';
import { manifestScopes } from './pubsub-scopes.ts';
import { routeMethod } from './routes.ts';
import type { ServiceManifest } from './schema.ts';
import { mapAt, parseYaml, printYaml, setGenerated } from './yaml-edit.ts';

export const chartValuesFile = 'charts/shop/values.yaml';

/** The app that serves the public routes: the one exposed to clients. */
export function publicApp(manifests: readonly ServiceManifest[]): ServiceManifest | undefined {
  return manifests.find((m) => m.exposed);
}

/** What `caller` may invoke on `callee`: its own calls, and for the gateway every route. */
function methodsFor(caller: ServiceManifest, callee: ServiceManifest, proxy?: ServiceManifest) {
  const viaRoutes =
    caller === proxy && callee.routes.length > 0
      ? [...callee.routes.map(routeMethod), `GET ${openApiDocumentPath}`]
      : [];
  return [...new Set([...viaRoutes, ...(caller.invokes[callee.appId] ?? [])])];
}

/**
 * dapr.accessControl: callee -> caller -> the "VERB /path" methods it may call, for every
 * service (one nobody calls gets no callers). The gateway may reach every public route of
 * an app and its OpenAPI document; everyone else what its manifest `invokes`.
 */
export function accessControl(manifests: readonly ServiceManifest[]) {
  const proxy = publicApp(manifests);
  const callers = [...manifests].sort((a, b) => a.appId.localeCompare(b.appId));
  return Object.fromEntries(
    manifests.map((callee) => [
      callee.appId,
      Object.fromEntries(
        callers
          .map((caller) => [caller.appId, methodsFor(caller, callee, proxy)] as const)
          .filter(([, methods]) => methods.length > 0),
      ),
    ]),
  );
}

function aclNode(doc: Document, manifests: readonly ServiceManifest[]) {
  const node = doc.createNode({}) as YAMLMap;
  for (const [callee, callers] of Object.entries(accessControl(manifests))) {
    const callerNode = doc.createNode({}, { flow: Object.keys(callers).length === 0 }) as YAMLMap;
    for (const [caller, methods] of Object.entries(callers))
      callerNode.add(
        doc.createPair(caller, doc.createNode(methods, { flow: methods.length === 1 })),
      );
    node.add(doc.createPair(callee, callerNode));
  }
  return node;
}

/** Sets or removes a key of a service's entry so that it says what the manifest does. */
function keep(entry: YAMLMap, key: string, wanted: boolean, make: () => unknown) {
  if (!wanted) entry.delete(key);
  else if (!entry.has(key)) entry.set(key, make());
}

/**
 * One service's entry under `services:`: its port, storage, exposure and secret-store
 * reads from the manifest; everything else (env, resources, the database Secret's name)
 * as the user wrote it, with defaults for a new service.
 */
function syncService(doc: Document, services: YAMLMap, m: ServiceManifest): void {
  const existing: unknown = services.get(m.appId, true);
  const entry = isMap(existing) ? existing : (doc.createNode({ enabled: true }) as YAMLMap);
  if (entry !== existing) services.set(m.appId, entry);
  entry.set('port', m.ports.app);
  const flow = (value: unknown) => doc.createNode(value, { flow: true });
  keep(entry, 'database', m.storage === 'postgres', () =>
    flow({ secret: `shop-${m.appId}-db`, key: 'url' }),
  );
  keep(entry, 'mongodb', m.storage === 'mongodb', () =>
    flow({ secret: `shop-${m.appId}-mongodb`, key: 'url' }),
  );
  keep(entry, 'expose', m.exposed, () => ({
    type: 'ClusterIP',
    port: m.ports.app,
    nodePort: null,
  }));
  if (m.secretStoreReads.length > 0) entry.set('secretStoreReads', flow(m.secretStoreReads));
  else entry.delete('secretStoreReads');
}

const kafkaListIntro =
  '#           for each of (the same list as broker.nats.subjects, every topic of the shop):\n';
const kafkaListIndent = '#             ';

/**
 * The kafka profile's comment lists every topic for a cluster that creates none itself;
 * its lines after the intro are rewritten from the topics, wrapped as the comment is.
 */
export function withKafkaTopicList(text: string, topics: readonly string[]): string {
  const from = text.indexOf(kafkaListIntro);
  if (from === -1) return text;
  const start = from + kafkaListIntro.length;
  let end = start;
  while (text.startsWith(kafkaListIndent, end)) end = text.indexOf('\n', end) + 1;
  const lines: string[] = [];
  for (const topic of topics) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + topic.length + 1 <= 88 - kafkaListIndent.length)
      lines[lines.length - 1] = `${last} ${topic}`;
    else lines.push(topic);
  }
  const list = lines.map((line) => `${kafkaListIndent}${line}\n`).join('');
  return text.slice(0, start) + list + text.slice(end);
}

/**
 * values.yaml with what the manifests decide: the services' entries (one per manifest,
 * none without), the access-control lists, and every topic (the NATS subjects, and the
 * kafka profile's comment).
 */
export function chartValuesYaml(current: string, manifests: readonly ServiceManifest[]): string {
  const doc = parseYaml(current, chartValuesFile);
  const services = mapAt(doc, ['services'], chartValuesFile);
  const ids = new Set(manifests.map((m) => m.appId));
  for (const pair of [...services.items])
    if (!ids.has(String((pair.key as { value?: unknown }).value ?? pair.key)))
      services.delete(pair.key);
  for (const m of manifests) syncService(doc, services, m);
  setGenerated(doc, ['dapr', 'accessControl'], aclNode(doc, manifests), chartValuesFile);
  const { topics } = manifestScopes(manifests);
  setGenerated(doc, ['broker', 'nats', 'subjects'], doc.createNode(topics), chartValuesFile);
  return withKafkaTopicList(printYaml(doc), topics);
}
