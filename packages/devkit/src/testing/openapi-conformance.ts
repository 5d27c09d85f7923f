import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

type SchemaObject = Record<string, unknown>;

type DeclaredResponse = {
  description?: string;
  headers?: Record<string, { required?: boolean; schema?: SchemaObject }>;
  content?: Record<string, { schema?: SchemaObject }>;
};

type Operation = { responses?: Record<string, DeclaredResponse> };

/** The parts of an OpenAPI 3.1 document that conformance checks read. */
export type OpenApiDocument = {
  openapi: string;
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, SchemaObject> };
};

/** One answer as a client saw it; `path` may carry a query string. */
export type ObservedResponse = {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  body: string;
};

// Only these belong to a service's documented API; probes, event deliveries and other
// Dapr-only paths are answered but never documented.
const publicPathPrefixes = ['/api/', '/.well-known/'];

function isPublicPath(path: string): boolean {
  return publicPathPrefixes.some((prefix) => path.startsWith(prefix));
}

const componentsId = 'urn:openapi:components';

type CompiledDocument = {
  document: OpenApiDocument;
  ajv: Ajv2020;
  validators: Map<SchemaObject, ValidateFunction>;
};

const compiled = new WeakMap<OpenApiDocument, CompiledDocument>();

function compile(document: OpenApiDocument): CompiledDocument {
  const known = compiled.get(document);
  if (known) return known;
  // A 3.1 schema is JSON Schema 2020-12; its references into components/schemas become
  // references into one schema holding them all as $defs.
  const rewritten = JSON.parse(
    JSON.stringify(document).replaceAll('"#/components/schemas/', `"${componentsId}#/$defs/`),
  ) as OpenApiDocument;
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats.default(ajv);
  // OpenAPI's annotations beside JSON Schema's own.
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
  ajv.addSchema({ $id: componentsId, $defs: rewritten.components?.schemas ?? {} });
  const entry = { document: rewritten, ajv, validators: new Map() };
  compiled.set(document, entry);
  return entry;
}

function validatorFor(entry: CompiledDocument, schema: SchemaObject): ValidateFunction {
  let validate = entry.validators.get(schema);
  if (!validate) {
    validate = entry.ajv.compile(schema);
    entry.validators.set(schema, validate);
  }
  return validate;
}

function templateMatcher(template: string): RegExp {
  const pattern = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replaceAll(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}$`);
}

// A literal segment outranks a parameter: /notifications/unread-count before /notifications/{id}.
function operationFor(document: OpenApiDocument, method: string, path: string) {
  const candidates = Object.entries(document.paths ?? {})
    .filter(([template]) => templateMatcher(template).test(path))
    .sort(([a], [b]) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  const [template, operations] = candidates[0] ?? [];
  if (!template || !operations) return undefined;
  return { template, operation: operations[method.toLowerCase()] };
}

function responseFor(operation: Operation, status: number): DeclaredResponse | undefined {
  const responses = operation.responses ?? {};
  return responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
}

function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .map((error) => `${error.instancePath || '(root)'} ${error.message}`)
    .join('; ');
}

function headerMismatches(
  entry: CompiledDocument,
  declared: DeclaredResponse,
  headers: Headers,
): string[] {
  const mismatches: string[] = [];
  for (const [name, header] of Object.entries(declared.headers ?? {})) {
    const value = headers.get(name);
    if (value === null) {
      if (header.required) mismatches.push(`header ${name} is declared required but absent`);
      continue;
    }
    if (!header.schema) continue;
    const validate = validatorFor(entry, header.schema);
    if (!validate(value)) mismatches.push(`header ${name}: ${describeErrors(validate)}`);
  }
  return mismatches;
}

function bodyMismatches(
  entry: CompiledDocument,
  declared: DeclaredResponse,
  response: ObservedResponse,
): string[] {
  const contentType = response.headers.get('content-type')?.split(';')[0]?.trim();
  const content = declared.content ?? {};
  const declaredTypes = Object.keys(content);
  if (declaredTypes.length === 0) {
    return response.body === '' ? [] : ['a body was sent where none is declared'];
  }
  const media = contentType ? content[contentType] : undefined;
  if (!contentType || !media) {
    return [`content type ${contentType ?? '(none)'} is not one of ${declaredTypes.join(', ')}`];
  }
  if (!media.schema || !/[/+]json$/.test(contentType)) return [];
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return [`the ${contentType} body is not JSON`];
  }
  const validate = validatorFor(entry, media.schema);
  return validate(body) ? [] : [`body: ${describeErrors(validate)}`];
}

/**
 * Every way a response departs from what the service's OpenAPI document declares for its
 * operation: an undeclared status, a missing required header, a content type or body that
 * does not match. Empty when it conforms. Paths outside the public API (`/api/`,
 * `/.well-known/`) are not documented, so their answers are not judged; nor is a 404
 * problem+json for a path or method the document does not have.
 *
 * @example
 * const document = await (await call('GET', openApiDocumentPath)).json();
 * expect(responseMismatches(document, { method: 'GET', path: '/api/v1/users/me', status: res.status, headers: res.headers, body: await res.text() })).toEqual([]);
 */
export function responseMismatches(
  document: OpenApiDocument,
  response: ObservedResponse,
): string[] {
  const entry = compile(document);
  const path = response.path.split('?')[0] ?? response.path;
  const found = operationFor(entry.document, response.method, path);
  if (!found?.operation) {
    // A path or method nobody serves is answered 404 problem+json; that is no departure.
    const contentType = response.headers.get('content-type')?.split(';')[0]?.trim();
    const unknownAnswered = response.status === 404 && contentType === 'application/problem+json';
    return isPublicPath(path) && !unknownAnswered
      ? [`${response.method} ${path} is not in the document`]
      : [];
  }
  const declared = responseFor(found.operation, response.status);
  if (!declared) {
    const statuses = Object.keys(found.operation.responses ?? {}).join(', ');
    return [`status ${response.status} is not declared (declared: ${statuses})`];
  }
  return [
    ...headerMismatches(entry, declared, response.headers),
    ...bodyMismatches(entry, declared, response),
  ];
}

function asOpenApi31(document: unknown): OpenApiDocument {
  const version = (document as Partial<OpenApiDocument> | null)?.openapi;
  if (typeof version !== 'string' || !version.startsWith('3.1.')) {
    throw new Error(`expected an OpenAPI 3.1 document, got openapi: ${String(version)}`);
  }
  return document as OpenApiDocument;
}

/**
 * Checks each answer a test receives against the app's OpenAPI document, loaded once on
 * first use: an answer that breaks it throws, naming each mismatch, so the test fails; one
 * that conforms is handed back untouched.
 *
 * @example
 * const conforming = openApiResponseChecker(async () => (await call('GET', openApiDocumentPath)).json());
 * const res = await conforming('GET', '/api/v1/users/me', await call('GET', '/api/v1/users/me', { token }));
 */
export function openApiResponseChecker(
  loadDocument: () => Promise<unknown>,
): (method: string, path: string, response: Response) => Promise<Response> {
  let document: Promise<OpenApiDocument> | undefined;
  return async (method, path, response) => {
    document ??= loadDocument().then(asOpenApi31);
    const streamed = response.headers.get('content-type')?.startsWith('text/event-stream');
    const mismatches = responseMismatches(await document, {
      method,
      path,
      status: response.status,
      headers: response.headers,
      // A stream never ends by itself; its status and content type are still checked.
      body: streamed ? '' : await response.clone().text(),
    });
    if (mismatches.length > 0) {
      throw new Error(
        `${method} ${path} → ${response.status} breaks the OpenAPI document:\n  ${mismatches.join('\n  ')}`,
      );
    }
    return response;
  };
}

/**
 * The public routes (under `/api/` or `/.well-known/`) of a Hono app that its OpenAPI
 * document lacks, or documents without any error response; empty when all are complete.
 *
 * @example
 * expect(undocumentedRoutes(app.routes, document)).toEqual([]);
 */
export function undocumentedRoutes(
  routes: ReadonlyArray<{ method: string; path: string }>,
  document: OpenApiDocument,
): string[] {
  const gaps = new Set<string>();
  for (const { method, path } of routes) {
    // Middleware is registered for ALL methods; only handlers are routes.
    if (method === 'ALL' || !isPublicPath(path)) continue;
    const template = path.replaceAll(/:(\w+)/g, '{$1}');
    const operation = document.paths?.[template]?.[method.toLowerCase()];
    if (!operation) {
      gaps.add(`${method} ${template} is not in the document`);
    } else if (!Object.keys(operation.responses ?? {}).some((status) => Number(status) >= 400)) {
      gaps.add(`${method} ${template} declares no error response`);
    }
  }
  return [...gaps];
}
