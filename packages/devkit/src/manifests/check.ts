import { routeConflicts } from './routes.ts';
import type { ServiceManifest } from './schema.ts';

/** What the code says, for the manifests to agree with. */
export type CodeFacts = {
  /** The event catalogue: type -> its producer. */
  catalog: Readonly<Record<string, { readonly producer?: string }>>;
  /** app -> the event types its src/events.ts consumes. */
  consumers: ReadonlyMap<string, readonly string[]>;
};

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

/** Every port is one process's: no two services share an app, sidecar or metrics port. */
function portClashes(manifests: readonly ServiceManifest[]): string[] {
  const owners = new Map<number, string>();
  const problems: string[] = [];
  for (const m of manifests) {
    for (const [kind, port] of Object.entries(m.ports)) {
      const owner = owners.get(port);
      if (owner) problems.push(`${m.appId}: ports.${kind} ${port} is already ${owner}'s`);
      else owners.set(port, `${m.appId} ${kind}`);
    }
  }
  return problems;
}

function invocationProblems(manifests: readonly ServiceManifest[]): string[] {
  const known = new Set(manifests.map((m) => m.appId));
  return manifests.flatMap((m) =>
    Object.keys(m.invokes)
      .filter((callee) => callee === m.appId || !known.has(callee))
      .map((callee) =>
        callee === m.appId
          ? `${m.appId} invokes itself`
          : `${m.appId} invokes ${callee}, which has no services/${callee}/service.json`,
      ),
  );
}

/** Each type published by one service, the catalogue's producer; each subscription fed. */
function topicProblems(manifests: readonly ServiceManifest[], { catalog }: CodeFacts): string[] {
  const publishers = new Map<string, string[]>();
  for (const m of manifests)
    for (const type of m.publishes)
      publishers.set(type, [...(publishers.get(type) ?? []), m.appId]);
  const problems: string[] = [];
  for (const [type, apps] of publishers) {
    const producer = catalog[type]?.producer;
    if (!producer)
      problems.push(`${apps.join(', ')} publish ${type}, which the event catalogue lacks`);
    else if (apps.length > 1 || apps[0] !== producer)
      problems.push(
        `${type} is published by ${apps.join(', ')}; the catalogue's producer is ${producer}`,
      );
  }
  for (const [type, { producer }] of Object.entries(catalog))
    if (!publishers.has(type))
      problems.push(`no manifest publishes ${type} (the catalogue says ${producer})`);
  for (const m of manifests)
    for (const type of m.subscribes)
      if (!publishers.has(type))
        problems.push(`${m.appId} subscribes to ${type}, which no service publishes`);
  return problems;
}

/** The manifests' subscriptions are what each service's src/events.ts consumes. */
function codeProblems(manifests: readonly ServiceManifest[], { consumers }: CodeFacts): string[] {
  const problems: string[] = [];
  for (const m of manifests) {
    const declared = consumers.get(m.appId) ?? [];
    if (!sameSet(m.subscribes, declared))
      problems.push(
        `${m.appId} subscribes to [${[...m.subscribes].sort().join(', ')}] but its src/events.ts consumes [${declared.join(', ')}]`,
      );
  }
  const manifested = new Set(manifests.map((m) => m.appId));
  for (const app of consumers.keys())
    if (!manifested.has(app))
      problems.push(`services/${app} consumes events but has no service.json`);
  return problems;
}

/** One exposed app (the gateway) forwards every public route; it has none of its own. */
function exposureProblems(manifests: readonly ServiceManifest[]): string[] {
  const exposed = manifests.filter((m) => m.exposed).map((m) => m.appId);
  const routed = manifests.filter((m) => m.routes.length > 0);
  const problems: string[] = [];
  if (exposed.length > 1)
    problems.push(`only one service may be exposed, not ${exposed.join(', ')}`);
  if (routed.length > 0 && exposed.length === 0)
    problems.push('services have public routes but no service is exposed to forward them');
  for (const m of routed.filter((r) => r.exposed))
    problems.push(`${m.appId} is exposed itself; its routes would go to no one`);
  return problems;
}

/**
 * Whatever makes the manifests inconsistent with each other or with the code, one line
 * each; empty when they are sound.
 */
export function manifestProblems(manifests: readonly ServiceManifest[], code: CodeFacts): string[] {
  return [
    ...portClashes(manifests),
    ...exposureProblems(manifests),
    ...invocationProblems(manifests),
    ...topicProblems(manifests, code),
    ...codeProblems(manifests, code),
    ...routeConflicts(manifests),
  ];
}
