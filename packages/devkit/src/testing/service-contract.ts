import { metricsText, type Problem } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { type RequestableApp, type ServiceCall, serviceCaller } from './service-harness.ts';

export type ServiceContractOptions = {
  /** The app under test and the token its sidecar presents; read once per test. */
  subject(): { app: RequestableApp & MetricsSource; appApiToken: string };
  /** A route of the service's public API, which only the gateway may call. */
  publicRoute: { method: string; path: string };
  /** A route that reads a JSON body, where the service has one. */
  jsonRoute?: { method: string; path: string };
  /** Whether the service consumes events (and so serves /events and /admin/dead-letters). */
  consumesEvents?: boolean;
};

type MetricsSource = Parameters<typeof metricsText>[0];

const problemType = 'application/problem+json';

async function expectProblem(res: Response, status: number): Promise<Problem> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe(problemType);
  const problem = (await res.json()) as Problem;
  expect(problem.status).toBe(status);
  expect(problem.type).toMatch(/^urn:shop:problem:/);
  return problem;
}

/**
 * What every service promises whatever its domain: probes, the Dapr app token, one
 * problem+json shape for unknown routes, malformed and oversized bodies, the caller
 * rules, request ids and its OpenAPI document. A service runs it against its own app.
 *
 * @example
 * const orders = useServiceApp({ ... });
 * describeServiceContract({
 *   subject: () => ({ app: orders.get().app, appApiToken: orders.appApiToken }),
 *   publicRoute: { method: 'GET', path: '/api/v1/orders' },
 * });
 */
export function describeServiceContract(options: ServiceContractOptions): void {
  const call: ContractCall = () => {
    const { app, appApiToken } = options.subject();
    return { app, appApiToken, asSidecar: serviceCaller(app, appApiToken) };
  };
  describe('the service contract', () => {
    probeCases(call);
    callerCases(call, options);
    problemCases(call, options);
    requestIdAndDocumentCases(call);
  });
}

type ContractCall = () => {
  app: RequestableApp & MetricsSource;
  appApiToken: string;
  asSidecar: ServiceCall;
};

/** Probes answer anyone; metrics are served by the metrics listener alone. */
function probeCases(call: ContractCall): void {
  it('answers its probes without the app token', async () => {
    const { app } = call();
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/readyz')).status).toBe(200);
    expect(await metricsText(app)).toContain('http_request_duration_seconds');
  });

  it('serves no metrics on its app port, which its metrics listener alone does', async () => {
    const { asSidecar } = call();
    await expectProblem(await asSidecar('GET', '/metrics'), 404);
  });
}

/** Who may call what: the app token, the gateway for the public API, the sidecar for events. */
function callerCases(call: ContractCall, { publicRoute, consumesEvents }: ServiceContractOptions) {
  it('refuses a call without the app token, or with a wrong one, with 401', async () => {
    const { app } = call();
    await expectProblem(await app.request(publicRoute.path, { method: publicRoute.method }), 401);
    const wrong = await app.request(publicRoute.path, {
      method: publicRoute.method,
      headers: { 'dapr-api-token': 'not-the-app-token-at-all' },
    });
    await expectProblem(wrong, 401);
  });

  it('admits its public API only from the gateway', async () => {
    const { asSidecar } = call();
    await expectProblem(
      await asSidecar(publicRoute.method, publicRoute.path, { caller: 'intruder' }),
      403,
    );
    const fromGateway = await asSidecar(publicRoute.method, publicRoute.path);
    expect(fromGateway.status).not.toBe(403);
    expect(fromGateway.status).not.toBe(404);
  });

  if (consumesEvents) {
    it('takes events only from subscriptions and dead-letter admin only from its own sidecar', async () => {
      const { asSidecar } = call();
      await expectProblem(
        await asSidecar('POST', '/events/user.registered', { body: {}, caller: 'gateway' }),
        403,
      );
      await expectProblem(
        await asSidecar('GET', '/admin/dead-letters', { caller: 'gateway' }),
        403,
      );
    });
  }
}

/** One problem+json shape for unknown routes, oversized and malformed bodies. */
function problemCases(call: ContractCall, { publicRoute, jsonRoute }: ServiceContractOptions) {
  it('answers an unknown route with 404 problem+json', async () => {
    const { asSidecar } = call();
    await expectProblem(await asSidecar('GET', '/api/v1/no-such-route'), 404);
  });

  it('refuses an oversized body with 413 before reading it', async () => {
    const { asSidecar } = call();
    const method = publicRoute.method === 'GET' ? 'POST' : publicRoute.method;
    const res = await asSidecar(method, publicRoute.path, {
      body: { filler: 'x'.repeat(2 * 1024 * 1024) },
    });
    await expectProblem(res, 413);
  });

  if (jsonRoute) {
    it('refuses malformed JSON with 400 problem+json', async () => {
      const { appApiToken, app } = call();
      const res = await app.request(jsonRoute.path, {
        method: jsonRoute.method,
        headers: {
          'dapr-api-token': appApiToken,
          'dapr-caller-app-id': 'gateway',
          'content-type': 'application/json',
        },
        body: '{"unterminated": ',
      });
      await expectProblem(res, 400);
    });
  }
}

/** Request ids for tracing, and the OpenAPI document the gateway merges. */
function requestIdAndDocumentCases(call: ContractCall): void {
  it('echoes the request id it was given, and makes one when none was', async () => {
    const { asSidecar } = call();
    const given = await asSidecar('GET', '/api/v1/no-such-route', {
      headers: { 'x-request-id': 'contract-request-0001' },
    });
    expect(given.headers.get('x-request-id')).toBe('contract-request-0001');
    const made = await asSidecar('GET', '/api/v1/no-such-route');
    expect(made.headers.get('x-request-id')).toMatch(/^\S{8,}$/);
  });

  it('serves its OpenAPI 3.1 document to Dapr callers only', async () => {
    const { app, asSidecar } = call();
    const res = await asSidecar('GET', '/internal/openapi.json');
    expect(res.status).toBe(200);
    const document = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(document.paths).length).toBeGreaterThan(0);
    await expectProblem(await app.request('/internal/openapi.json'), 401);
  });
}
