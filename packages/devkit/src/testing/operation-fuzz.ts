import { openApiDocumentPath } from '@shop/platform';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hostileHeaderValue,
  hostileJson,
  hostileString,
  hostileUrlPart,
  toJsonText,
} from './hostile-values.ts';
import { plausibleValue, resolveSchema, type Schema } from './plausible-values.ts';
import type { RequestableApp } from './service-harness.ts';
import { viaSidecar } from './via-sidecar.ts';

type Parameter = { name: string; in: string; required?: boolean; schema?: Schema };
type OperationObject = {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
};
type Document = {
  paths?: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, Schema> };
};

export type OperationFuzzOptions = {
  /** The app under test, its app token, and valid access tokens (a customer's, an admin's). */
  subject(): { app: RequestableApp; appApiToken: string; tokens: readonly string[] };
  /**
   * The Dapr apps that may call its routes outside /api/ (the gateway alone calls those);
   * a few requests come from an app that may not.
   */
  internalCallers?: readonly string[];
  /** Requests per operation; FUZZ_RUNS overrides it. */
  numRuns?: number;
  /** Operations left out, as `'GET /api/v1/things/{id}'`, each with the reason. */
  skip?: Record<string, string>;
  /** Where the document is read: a service's own by default, the gateway's merged one at /openapi.json. */
  documentPath?: string;
};

type Operation = { method: string; template: string; spec: OperationObject };

/** One generated request, as fast-check prints a counterexample. */
type HostileRequest = {
  path: string;
  query: string;
  headers: Record<string, string>;
  caller: string;
  token: string | undefined;
  body: { contentType: string; text: string } | undefined;
};

const methods = ['get', 'post', 'put', 'patch', 'delete'];
const headerSafe = /^[\t\x20-\x7e\x80-\xff]*$/;

function operationsOf(document: Document, skip: Record<string, string>): Operation[] {
  return Object.entries(document.paths ?? {}).flatMap(([template, item]) =>
    methods
      .filter((method) => item[method] && !skip[`${method.toUpperCase()} ${template}`])
      .map((method) => ({ method, template, spec: item[method] as OperationObject })),
  );
}

/** A parameter's value on the wire, as its schema would take it (it may still be refused). */
function urlValue(document: Document, parameter: Parameter): fc.Arbitrary<string> {
  return plausibleValue(document, parameter.schema ?? {})
    .filter((v) => v !== null && typeof v !== 'object')
    .map((v) => encodeURIComponent(String(v).toWellFormed()));
}

function headerValue(document: Document, parameter: Parameter): fc.Arbitrary<string> {
  return plausibleValue(document, parameter.schema ?? {})
    .map(String)
    .filter((v) => headerSafe.test(v));
}

// An optional parameter is left out more often than it is sent, so that a request with
// one hostile value seldom carries another that is refused first.
const sometimes = <T>(value: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: value });

/**
 * Mostly one hostile value among plausible ones (the one most likely to get as far as the
 * database), else none: the keys of `slots` name where it goes.
 */
function oneHostile<T>(slots: Record<string, fc.Arbitrary<T>>) {
  const entries = Object.entries(slots);
  if (entries.length === 0) return fc.constant(undefined);
  const placed = fc.oneof(
    ...entries.map(([slot, value]) => value.map((hostile) => ({ slot, hostile }))),
  );
  return fc.option(placed, { nil: undefined, freq: 5 });
}

/** The body's fields plausible but for one hostile, or the whole body hostile or malformed. */
function bodyOf(document: Document, operation: Operation) {
  const schema = operation.spec.requestBody?.content?.['application/json']?.schema;
  const json = (value: unknown) => ({ contentType: 'application/json', text: toJsonText(value) });
  const resolved = schema ? resolveSchema(document, schema) : undefined;
  const properties = Object.entries((resolved?.properties ?? {}) as Record<string, Schema>);
  const fields = Object.fromEntries(
    properties.map(([name, property]) => [name, plausibleValue(document, property)]),
  );
  const required = Array.isArray(resolved?.required) ? (resolved.required as string[]) : [];
  const hostileField = oneHostile(
    Object.fromEntries(properties.map(([name]) => [name, hostileJson])),
  );
  const shaped = fc
    .tuple(fc.record(fields, { requiredKeys: required }), hostileField)
    .map(([body, target]) => json(target ? { ...body, [target.slot]: target.hostile } : body));
  return fc.oneof(
    { weight: schema ? 6 : 0, arbitrary: shaped },
    { weight: 1, arbitrary: hostileJson.map(json) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.constantFrom('{"a":', '', '\u0000', '{"a":1}{', '[1,]').map((text) => ({
          contentType: 'application/json',
          text,
        })),
        hostileString.map((text) => ({ contentType: 'text/plain', text })),
      ),
    },
  );
}

const slotOf = { path: 'path', query: 'query', header: 'headers' } as const;

function requestsFor(
  document: Document,
  operation: Operation,
  options: { internalCallers: readonly string[]; tokens: readonly string[] },
): fc.Arbitrary<HostileRequest> {
  const callers = operation.template.startsWith('/api/') ? [] : options.internalCallers;
  const hasBody = operation.method !== 'get' && operation.method !== 'delete';
  return fc
    .record({
      parts: parameterParts(document, operation.spec.parameters ?? []),
      caller: fc.oneof(
        { weight: 9, arbitrary: fc.constantFrom('gateway', ...callers) },
        { weight: 1, arbitrary: fc.constant('intruder') },
      ),
      token: fc.oneof(
        { weight: 1, arbitrary: fc.constantFrom(undefined, 'not-a-token') },
        { weight: 3, arbitrary: fc.constantFrom(...options.tokens) },
      ),
      body: hasBody
        ? fc.option(bodyOf(document, operation), { nil: undefined, freq: 8 })
        : fc.constant(undefined),
    })
    .map(({ parts, ...rest }) => ({ ...placedInRequest(operation.template, parts), ...rest }));
}

type Parts = Record<(typeof slotOf)[keyof typeof slotOf], Record<string, string | undefined>>;

/** Plausible path, query and header values, with a hostile value in one slot at most. */
function parameterParts(document: Document, parameters: Parameter[]): fc.Arbitrary<Parts> {
  const inPlace = (where: string) => parameters.filter((p) => p.in === where);
  const values = (where: string, value: (p: Parameter) => fc.Arbitrary<string | undefined>) =>
    fc.record(Object.fromEntries(inPlace(where).map((p) => [p.name, value(p)])));
  const hostile = oneHostile(
    Object.fromEntries(
      parameters
        .filter((p) => p.in in slotOf)
        .map((p) => [`${p.in}:${p.name}`, p.in === 'header' ? hostileHeaderValue : hostileUrlPart]),
    ),
  );
  const parts = fc.record({
    path: values('path', (p) => urlValue(document, p)),
    query: values('query', (p) => sometimes(urlValue(document, p))),
    headers: values('header', (p) => sometimes(headerValue(document, p))),
    hostile,
  });
  return parts.map(({ hostile, ...placed }) => {
    if (hostile) {
      const [where, name] = hostile.slot.split(/:(.*)/s) as [keyof typeof slotOf, string];
      placed[slotOf[where]][name] = hostile.hostile;
    }
    return placed;
  });
}

/** The path with its parameters filled in, the query string and the headers given a value. */
function placedInRequest(template: string, parts: Parts) {
  return {
    path: template.replaceAll(/\{([^}]+)\}/g, (_, name: string) => parts.path[name] ?? ''),
    query: Object.entries(parts.query)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => `${encodeURIComponent(name)}=${value}`)
      .join('&'),
    headers: Object.fromEntries(
      Object.entries(parts.headers).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      ),
    ),
  };
}

/** What is wrong with an answer: a 5xx, or a 4xx that is not problem+json. */
async function faultOf(res: Response): Promise<string | undefined> {
  if (res.status < 400) {
    await res.body?.cancel();
    return undefined;
  }
  const text = await res.text();
  if (res.status >= 500) return `answered ${res.status}: ${text.slice(0, 300)}`;
  const contentType = res.headers.get('content-type') ?? '';
  if (!contentType.startsWith('application/problem+json')) {
    return `answered ${res.status} as ${contentType || 'no content type'}: ${text.slice(0, 300)}`;
  }
  return undefined;
}

async function send(
  app: RequestableApp,
  appApiToken: string,
  method: string,
  request: HostileRequest,
): Promise<Response> {
  const headers = new Headers(request.headers);
  if (request.token) headers.set('authorization', `Bearer ${request.token}`);
  if (request.body) headers.set('content-type', request.body.contentType);
  const url = request.query ? `${request.path}?${request.query}` : request.path;
  return viaSidecar(
    app,
    appApiToken,
    request.caller,
  )(url, {
    method: method.toUpperCase(),
    headers,
    body: request.body?.text ?? null,
  });
}

const runsFromEnv = Number(process.env.FUZZ_RUNS) || undefined;
const seedFromEnv = Number(process.env.FUZZ_SEED) || undefined;

async function fuzzOperation(
  subject: ReturnType<OperationFuzzOptions['subject']>,
  document: Document,
  operation: Operation,
  options: { internalCallers: readonly string[]; numRuns: number; seed: number },
): Promise<string | undefined> {
  const requests = requestsFor(document, operation, { ...options, tokens: subject.tokens });
  const result = await fc.check(
    fc.asyncProperty(requests, async (request) => {
      const res = await send(subject.app, subject.appApiToken, operation.method, request);
      const fault = await faultOf(res);
      if (fault) throw new Error(fault);
    }),
    { numRuns: options.numRuns, seed: options.seed, interruptAfterTimeLimit: 60_000 },
  );
  if (!result.failed) return undefined;
  // The fault first: a shrunk counterexample can still run to kilobytes.
  const fault = result.errorInstance instanceof Error ? result.errorInstance.message : 'failed';
  const report = fc.defaultReportMessage(result) ?? '';
  return `${operation.method.toUpperCase()} ${operation.template}: ${fault}\n${report.slice(0, 1_500)}`;
}

/**
 * Sends every operation of the service's own OpenAPI document hostile requests (fast-check:
 * arbitrary unicode with control characters and lone surrogates, numbers out of every
 * range, deep JSON, wrong types, malformed bodies, in each path, query, header and body
 * field, with no token, a forged one or a valid one) and fails on any 5xx or any 4xx that
 * is not problem+json, naming the operation, the seed (FUZZ_SEED replays it) and the
 * smallest request that does it.
 *
 * @example
 * describeOperationFuzz({ subject: () => ({ app: catalog.get().app, appApiToken: catalog.appApiToken, tokens: [catalog.admin(), catalog.customer()] }) });
 */
export function describeOperationFuzz(options: OperationFuzzOptions): void {
  const internalCallers = options.internalCallers ?? [];
  const numRuns = runsFromEnv ?? options.numRuns ?? 150;
  describe('hostile input to every documented operation', () => {
    it('answers no 5xx, and every 4xx as problem+json', async () => {
      const subject = options.subject();
      const docResponse = await viaSidecar(
        subject.app,
        subject.appApiToken,
      )(options.documentPath ?? openApiDocumentPath);
      const document = (await docResponse.json()) as Document;
      const operations = operationsOf(document, options.skip ?? {});
      expect(operations.length).toBeGreaterThan(0);
      const seed = seedFromEnv ?? Math.floor(Math.random() * 2 ** 31);
      const failures: string[] = [];
      for (const operation of operations) {
        const failure = await fuzzOperation(subject, document, operation, {
          internalCallers,
          numRuns,
          seed,
        });
        if (failure) failures.push(failure);
      }
      expect(failures, `seed ${seed} (FUZZ_SEED=${seed} replays it)`).toEqual([]);
    }, 600_000);
  });
}
