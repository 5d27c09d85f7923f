import { beforeAll, describe, expect, it } from 'vitest';
import { type K8sObject, named, ofKind, prepareHelm } from './support/chart.ts';
import { aclSpecs, call, type DaprCall, daprDecides, prepareDaprAcl } from './support/dapr-acl.ts';
import {
  accessControl,
  allServices,
  namespace,
  render,
  renderError,
  sampleId,
  tokens,
} from './support/hardening.ts';
import { gatewayUpstreams, invocationsInCode } from './support/invocations.ts';
import type { Workload } from './support/workloads.ts';

beforeAll(() => {
  prepareHelm();
  prepareDaprAcl();
}, 15 * 60_000);

describe('Dapr access control', () => {
  let objects: K8sObject[] = [];
  let code: ReturnType<typeof invocationsInCode> = {
    calls: [],
    gatewayCallees: [],
    gatewayCalls: [],
  };
  beforeAll(() => {
    objects = render();
    code = invocationsInCode();
  });

  it('defaults to exactly what the code invokes: who calls whom, and which methods', () => {
    // The code reads as expected at all (a regex that matched nothing would prove nothing).
    expect(code.calls.length).toBeGreaterThanOrEqual(7);
    expect(code.gatewayCallees).toEqual(allServices.filter((name) => name !== 'gateway'));

    const inCode = new Set([
      ...code.gatewayCallees.map((callee) => `gateway -> ${callee}`),
      ...code.calls.map((c) => `${c.caller} -> ${c.callee}`),
    ]);
    const inValues = Object.entries(accessControl).flatMap(([callee, callers]) =>
      Object.keys(callers).map((caller) => `${caller} -> ${callee}`),
    );
    expect(inValues.sort()).toEqual([...inCode].sort());
    expect(Object.keys(accessControl).sort()).toEqual(allServices);

    // No app may call every method of another, not even the gateway.
    for (const [callee, callers] of Object.entries(accessControl))
      for (const [caller, allowed] of Object.entries(callers))
        expect(allowed, `${caller} -> ${callee}`).not.toBe('all');

    // The methods: Dapr allows every call the code makes, and each listed method is one
    // that some call of the code needs (one at a time, as its caller's only method).
    const specs = aclSpecs(objects);
    const decisions = daprDecides(
      code.calls.map((c) => ({
        spec: specs.get(c.callee),
        calls: [call(c.caller, c.verb, c.path)],
      })),
    );
    for (const [i, c] of code.calls.entries()) {
      const why = `${c.caller} -> ${c.callee} ${c.verb} ${c.path} (${c.where})`;
      expect(decisions[i], why).toEqual([true]);
    }
    for (const [callee, callers] of Object.entries(accessControl)) {
      for (const [caller, methods] of Object.entries(callers)) {
        // The gateway's lists are checked against what it forwards below.
        if (methods === 'all' || caller === 'gateway') continue;
        for (const method of methods) {
          const [verb = '', name = ''] = method.split(' ');
          const only = {
            defaultAction: 'deny',
            trustDomain: 'public',
            policies: [
              {
                appId: caller,
                trustDomain: 'public',
                namespace,
                defaultAction: 'deny',
                operations: [{ name, httpVerb: [verb], action: 'allow' }],
              },
            ],
          };
          const needed = code.calls.filter((c) => c.caller === caller && c.callee === callee);
          const [answers = []] = daprDecides([
            { spec: only, calls: needed.map((c) => call(c.caller, c.verb, c.path)) },
          ]);
          expect(
            answers.some(Boolean),
            `${caller} -> ${callee}: ${method} is used by no call`,
          ).toBe(true);
          // And it is as narrow as Dapr can say it: the very path, or a wildcard only where
          // the code puts an id, right after the pattern's fixed part.
          const used = needed.filter((_, i) => answers[i]);
          const wildcard = /\/\*\*?$/.exec(name);
          if (!wildcard) {
            expect(
              used.some((c) => c.path === name),
              `${caller} -> ${callee}: ${method} is wider than the call`,
            ).toBe(true);
            continue;
          }
          const fixed = name.slice(0, wildcard.index);
          expect(
            used.some((c) => c.path.startsWith(`${fixed}/${sampleId}`)),
            `${caller} -> ${callee}: ${method} has a wildcard where the code has no id`,
          ).toBe(true);
        }
      }
    }
  });

  it("gives each app a Configuration of its own, with mTLS, deny by default and a policy per caller in the release's namespace", () => {
    const objectsElsewhere = render([], 'shop-staging');
    for (const [ns, rendered] of [
      [namespace, objects],
      ['shop-staging', objectsElsewhere],
    ] as const) {
      const configurations = ofKind(rendered, 'Configuration');
      expect(configurations.map((c) => c.metadata.name).sort()).toEqual(
        allServices.map((n) => `shop-${n}`),
      );
      for (const deployment of ofKind<Workload>(rendered, 'Deployment')) {
        const name = deployment.metadata.name;
        expect(deployment.spec.template.metadata.annotations?.['dapr.io/config']).toBe(
          `shop-${name}`,
        );
        const spec = named(configurations, `shop-${name}`).spec;
        expect(spec.mtls).toEqual({
          enabled: true,
          controlPlaneTrustDomain: 'cluster.local',
          sentryAddress: 'dapr-sentry.dapr-system.svc:443',
        });
        const callers = accessControl[name] ?? {};
        const policies = Object.keys(callers)
          .sort()
          .map((caller) => {
            const allowed = callers[caller] as 'all' | string[];
            const policy = { appId: caller, trustDomain: 'public', namespace: ns };
            if (allowed === 'all') return { ...policy, defaultAction: 'allow' };
            return {
              ...policy,
              defaultAction: 'deny',
              operations: allowed.map((method) => {
                const [verb, path] = method.split(' ');
                return { name: path, httpVerb: [verb], action: 'allow' };
              }),
            };
          });
        expect(spec.accessControl, name).toEqual({
          defaultAction: 'deny',
          trustDomain: 'public',
          ...(policies.length > 0 ? { policies } : {}),
        });
        // The secret store answers an app for its own secretStoreReads only.
        expect(spec.secrets.scopes, name).toEqual([
          { storeName: 'kubernetes', defaultAccess: 'deny' },
          {
            storeName: 'secretstore',
            defaultAccess: 'deny',
            ...(name === 'users' ? { allowedSecrets: ['jwt-signing-keys'] } : {}),
          },
        ]);
      }
    }
  });

  it("is enforced as meant by Dapr's own code: listed calls in, everything else out", () => {
    const specs = aclSpecs(objects);
    const publicCalls = gatewayUpstreams.map(({ route, appId }) => ({
      callee: appId,
      path: route.replace('*', sampleId),
    }));
    for (const callee of allServices) {
      const callers = accessControl[callee] ?? {};
      const probes: { call: DaprCall; expected: boolean; why: string }[] = [];
      const paths = [
        ...publicCalls.filter((c) => c.callee === callee).map((c) => c.path),
        ...code.calls.filter((c) => c.callee === callee).map((c) => c.path),
        '/openapi.json',
        '/admin/dead-letters',
      ];
      // The gateway's own lists: the next test.
      for (const caller of allServices.filter((name) => name !== 'gateway')) {
        const allowed = callers[caller];
        const ownCalls = code.calls.filter((c) => c.caller === caller && c.callee === callee);
        for (const path of paths) {
          for (const verb of ['GET', 'POST', 'DELETE']) {
            let expected = allowed === 'all';
            if (Array.isArray(allowed)) {
              const needed = ownCalls.some((c) => c.verb === verb && c.path === path);
              // A `/**` method (notifications' GET /internal/products/**) admits more than
              // the one path the code calls, by design; a path the caller needs with another
              // verb, or any path outside /internal/, it must not.
              const otherVerb = ownCalls.some((c) => c.path === path);
              if (!needed && !otherVerb && path.startsWith('/internal/')) continue;
              expected = needed;
            }
            probes.push({
              call: call(caller, verb, path),
              expected,
              why: `${caller} -> ${callee} ${verb} ${path}`,
            });
            if (expected) {
              // The same app id from another namespace or trust domain is someone else.
              probes.push({
                call: call(caller, verb, path, 'other'),
                expected: false,
                why: `other/${caller}`,
              });
              probes.push({
                call: call(caller, verb, path, namespace, 'evil'),
                expected: false,
                why: `evil trust domain ${caller}`,
              });
            }
          }
        }
      }
      const [answers = []] = daprDecides([
        { spec: specs.get(callee), calls: probes.map((p) => p.call) },
      ]);
      for (const [i, probe] of probes.entries()) expect(answers[i], probe.why).toBe(probe.expected);
    }
    // The users service trusts X-Forwarded-For on login because only the gateway calls it.
    // (See also the gateway's own test below.)
    const [login = []] = daprDecides([
      {
        spec: specs.get('users'),
        calls: ['catalog', 'orders', 'notifications'].map((c) =>
          call(c, 'POST', '/api/v1/auth/login'),
        ),
      },
    ]);
    expect(login).toEqual([false, false, false]);
  });

  it("admit the gateway only on the paths it forwards, never a service's internal routes", () => {
    const specs = aclSpecs(objects);
    const verbs = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
    const probes: { callee: string; call: DaprCall; expected: boolean; why: string }[] = [];
    const probe = (callee: string, verb: string, path: string, expected: boolean) => {
      probes.push({
        callee,
        call: call('gateway', verb, path),
        expected,
        why: `${verb} ${callee}${path}`,
      });
      if (expected) {
        // The same app id from another namespace or trust domain is someone else.
        for (const other of [
          call('gateway', verb, path, 'other'),
          call('gateway', verb, path, namespace, 'evil'),
        ])
          probes.push({
            callee,
            call: other,
            expected: false,
            why: `elsewhere: ${verb} ${callee}${path}`,
          });
      }
    };
    // The code reads as expected: every route, a GraphQL call with a POST, the documents.
    expect(code.gatewayCalls.length).toBeGreaterThan(gatewayUpstreams.length * 2);
    expect(code.gatewayCalls).toContainEqual(
      expect.objectContaining({
        callee: 'catalog',
        verb: 'POST',
        path: '/internal/products/batch',
      }),
    );
    for (const c of code.gatewayCalls)
      for (const verb of c.verb === '*' ? verbs : [c.verb]) probe(c.callee, verb, c.path, true);
    const internal = [
      '/admin/dead-letters',
      `/admin/dead-letters/${sampleId}/replay`,
      '/events/order.created',
      '/dead-letters',
      '/dapr/subscribe',
      '/dapr/config',
      '/internal/ready',
      `/internal/products/${sampleId}/wishlisters`,
      '/healthz',
      '/metrics',
      '/api/v2/anything',
    ];
    for (const callee of allServices.filter((name) => name !== 'gateway'))
      for (const path of internal)
        for (const verb of ['GET', 'POST']) probe(callee, verb, path, false);
    // Each listed method is needed by some call: nothing wider than what is forwarded.
    for (const [callee, callers] of Object.entries(accessControl)) {
      const methods = callers.gateway;
      if (!Array.isArray(methods)) continue;
      const needed = code.gatewayCalls.filter((c) => c.callee === callee);
      const answers = daprDecides(
        methods.map((method) => {
          const [verb = '', name = ''] = method.split(' ');
          const only = {
            defaultAction: 'deny',
            trustDomain: 'public',
            policies: [
              {
                appId: 'gateway',
                trustDomain: 'public',
                namespace,
                defaultAction: 'deny',
                operations: [{ name, httpVerb: [verb], action: 'allow' }],
              },
            ],
          };
          return {
            spec: only,
            calls: needed.map((c) => call('gateway', c.verb === '*' ? 'GET' : c.verb, c.path)),
          };
        }),
      );
      for (const [i, method] of methods.entries())
        expect(
          answers[i]?.some(Boolean),
          `gateway -> ${callee}: ${method} is used by no call`,
        ).toBe(true);
    }
    const callees = [...new Set(probes.map((p) => p.callee))];
    const decided = daprDecides(
      callees.map((callee) => ({
        spec: specs.get(callee),
        calls: probes.filter((p) => p.callee === callee).map((p) => p.call),
      })),
    );
    for (const [i, callee] of callees.entries()) {
      const own = probes.filter((p) => p.callee === callee);
      for (const [j, p] of own.entries()) expect(decided[i]?.[j], p.why).toBe(p.expected);
    }
  });

  it('refuses an app id it does not know and a method it cannot read', () => {
    expect(renderError([...tokens, '--set', 'dapr.accessControl.users.cataloge=all'])).toContain(
      'dapr.accessControl.users.cataloge: no service "cataloge" in services',
    );
    expect(renderError([...tokens, '--set', 'dapr.accessControl.userz.gateway=all'])).toContain(
      'dapr.accessControl.userz: no service "userz" in services',
    );
    // The schema first, then the template for a render that skips it.
    for (const bad of [
      'dapr.accessControl.users.catalog=everything',
      'dapr.accessControl.users.catalog[0]=GET jwks',
    ]) {
      expect(renderError([...tokens, '--set', bad]), bad).toContain(
        "at '/dapr/accessControl/users/catalog'",
      );
      expect(renderError([...tokens, '--skip-schema-validation', '--set', bad]), bad).toContain(
        'dapr.accessControl.users.catalog',
      );
    }
  });
});
