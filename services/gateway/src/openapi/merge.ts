import { type AccessPolicy, upstreamFor } from '../proxy/upstreams.ts';

type Json = Record<string, unknown>;

/** An OpenAPI 3.1 document, as far as merging reads it. */
export type OpenApiDocument = Json & {
  openapi: string;
  info: Json & { title: string; version: string };
  paths?: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
  tags?: Json[];
};

/** One service's own document, as it serves it at /internal/openapi.json. */
export type ServicePart = { appId: string; document: OpenApiDocument };

export type MergeOptions = {
  info: OpenApiDocument['info'];
  /**
   * The problem+json responses the gateway itself may answer on a forwarded operation,
   * by status (401, 413, 429, 503, 504), referring to `#/components/schemas/Problem`.
   */
  gatewayResponses: Record<string, unknown>;
  /** Whose public paths this part may contribute: by default, where upstreams send them. */
  owns?: (appId: string, path: string) => boolean;
  /** Apps whose part could not be had; named in the description. */
  missing?: readonly string[];
};

const methods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
const refPattern = /^#\/components\/([^/]+)\/(.+)$/;

function ownsByUpstream(appId: string, path: string): boolean {
  return upstreamFor(path)?.appId === appId;
}

function accessOf(path: string): AccessPolicy | undefined {
  return upstreamFor(path)?.access;
}

/** Every `$ref` anywhere in `value`, rewritten by `rename`, as a deep copy. */
function mapRefs(value: unknown, rename: (ref: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => mapRefs(item, rename));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' ? rename(inner) : mapRefs(inner, rename),
    ]),
  );
}

function refsIn(value: unknown, found = new Set<string>()): Set<string> {
  mapRefs(value, (ref) => {
    const match = refPattern.exec(ref);
    if (match) found.add(`${match[1]}/${match[2]}`);
    return ref;
  });
  return found;
}

// A component name that means different things in different services is renamed to
// `<appId>.<name>` in each; so is one whose definitions are equal but refer (at any depth)
// to a renamed one. Equal definitions elsewhere (Problem, bearer) stay one component.
function conflictingComponents(parts: readonly ServicePart[]): Set<string> {
  const definitions = new Map<string, Array<{ text: string; refs: Set<string> }>>();
  for (const { document } of parts) {
    for (const [kind, named] of Object.entries(document.components ?? {})) {
      for (const [name, definition] of Object.entries(named ?? {})) {
        const key = `${kind}/${name}`;
        const list = definitions.get(key) ?? [];
        list.push({ text: JSON.stringify(definition), refs: refsIn(definition) });
        definitions.set(key, list);
      }
    }
  }
  const conflicting = new Set(
    [...definitions]
      .filter(([, list]) => new Set(list.map(({ text }) => text)).size > 1)
      .map(([key]) => key),
  );
  let grew = true;
  while (grew) {
    grew = false;
    for (const [key, list] of definitions) {
      if (list.length < 2 || conflicting.has(key)) continue;
      if (list.some(({ refs }) => [...refs].some((ref) => conflicting.has(ref)))) {
        conflicting.add(key);
        grew = true;
      }
    }
  }
  return conflicting;
}

// Only what the public paths refer to, at any depth, and every security scheme: a schema
// that only a Dapr-only route uses stays out of the public document.
function reachableComponents(
  paths: Record<string, Json>,
  components: Record<string, Json>,
): Record<string, Json> {
  const reached = new Set<string>();
  const pending = [...refsIn(paths)];
  while (pending.length > 0) {
    const key = pending.pop() as string;
    if (reached.has(key)) continue;
    reached.add(key);
    const [kind = '', ...name] = key.split('/');
    pending.push(...refsIn(components[kind]?.[name.join('/')]));
  }
  const kept: Record<string, Json> = {};
  for (const [kind, named] of Object.entries(components)) {
    const entries = Object.entries(named).filter(
      ([name]) => kind === 'securitySchemes' || reached.has(`${kind}/${name}`),
    );
    if (entries.length > 0) kept[kind] = Object.fromEntries(entries);
  }
  return kept;
}

function withGatewayResponses(
  operation: Json,
  access: AccessPolicy | undefined,
  gatewayResponses: Record<string, unknown>,
): Json {
  // Only a forwarded operation passes the gateway's checks and its upstream call.
  if (access === undefined) return operation;
  const responses = { ...((operation.responses as Json | undefined) ?? {}) };
  for (const [status, response] of Object.entries(gatewayResponses)) {
    if (status === '401' && access === 'none') continue;
    if (status === '413' && !operation.requestBody) continue;
    responses[status] ??= response;
  }
  return { ...operation, responses };
}

/** A part's component names, `<appId>.<name>` where another part means something else. */
function renamerFor(appId: string, conflicting: ReadonlySet<string>) {
  const name = (kind: string, original: string) =>
    conflicting.has(`${kind}/${original}`) ? `${appId}.${original}` : original;
  const ref = (original: string) => {
    const match = refPattern.exec(original);
    return match?.[1] && match[2]
      ? `#/components/${match[1]}/${name(match[1], match[2])}`
      : original;
  };
  return { name, ref };
}

type Renamer = ReturnType<typeof renamerFor>;

/** The public paths a part contributes, its operations tagged and given the gateway's errors. */
function partPaths(
  { appId, document }: ServicePart,
  rename: Renamer,
  options: Required<Pick<MergeOptions, 'owns' | 'gatewayResponses'>>,
): Record<string, Json> {
  const paths: Record<string, Json> = {};
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    if (!options.owns(appId, path)) continue;
    const access = accessOf(path);
    paths[path] = Object.fromEntries(
      Object.entries(mapRefs(item, rename.ref) as Json).map(([key, value]) => [
        key,
        methods.has(key)
          ? withGatewayResponses(
              { ...(value as Json), tags: [appId] },
              access,
              options.gatewayResponses,
            )
          : value,
      ]),
    );
  }
  return paths;
}

function addComponents(components: Record<string, Json>, part: ServicePart, rename: Renamer) {
  for (const [kind, named] of Object.entries(part.document.components ?? {})) {
    components[kind] ??= {};
    for (const [name, definition] of Object.entries(named ?? {})) {
      (components[kind] as Json)[rename.name(kind, name)] = mapRefs(definition, rename.ref);
    }
  }
}

function describedInfo(info: MergeOptions['info'], missing: readonly string[]) {
  const description = [
    info.description,
    missing.length > 0
      ? `Not described right now (their services did not answer): ${missing.join(', ')}.`
      : undefined,
  ]
    .filter(Boolean)
    .join('\n\n');
  return { ...info, ...(description ? { description } : {}) };
}

/**
 * One public document from the services' own: each part keeps only the public paths the
 * gateway forwards to that app (never /internal, /events or probes), its operations
 * tagged with the app's name and given the errors the gateway itself may answer, and its
 * components renamed where another part means something else by the same name.
 *
 * @example
 * const document = mergeOpenApiDocuments(parts, { info: { title: 'shop', version: 'v1' }, gatewayResponses });
 */
export function mergeOpenApiDocuments(
  parts: readonly ServicePart[],
  options: MergeOptions,
): OpenApiDocument {
  const owns = options.owns ?? ownsByUpstream;
  const conflicting = conflictingComponents(parts);
  const paths: Record<string, Json> = {};
  const components: Record<string, Json> = {};
  const tags: Json[] = [];
  for (const part of parts) {
    const rename = renamerFor(part.appId, conflicting);
    const contributed = partPaths(part, rename, {
      owns,
      gatewayResponses: options.gatewayResponses,
    });
    for (const [path, item] of Object.entries(contributed))
      paths[path] = { ...paths[path], ...item };
    if (Object.keys(contributed).length > 0) {
      tags.push({ name: part.appId, description: `Served by the ${part.appId} service.` });
    }
    addComponents(components, part, rename);
  }
  return {
    openapi: '3.1.0',
    info: describedInfo(options.info, options.missing ?? []),
    tags,
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: reachableComponents(paths, components),
  } as OpenApiDocument;
}
