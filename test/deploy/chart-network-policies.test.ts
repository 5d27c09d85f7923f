import { beforeAll, describe, expect, it } from 'vitest';
import { type K8sObject, named, ofKind, prepareHelm } from './support/chart.ts';
import {
  accessControl,
  allServices,
  appMetricsPort,
  daprInternalPort,
  daprMetricsPort,
  everything,
  namespace,
  type PolicyRule,
  render,
  renderError,
  tokens,
  values,
  workloads,
} from './support/hardening.ts';
import {
  appPod,
  fromNamespace,
  ingressAllowed,
  peerAdmits,
  selects,
} from './support/network-policy.ts';
import type { Workload } from './support/workloads.ts';

beforeAll(() => {
  prepareHelm();
}, 15 * 60_000);

describe('NetworkPolicies', () => {
  let objects: K8sObject[] = [];
  let policies: K8sObject[] = [];
  const monitoring = fromNamespace('monitoring', { 'app.kubernetes.io/name': 'prometheus' });
  const elsewhere = fromNamespace('somewhere-else');
  beforeAll(() => {
    objects = everything();
    policies = ofKind(objects, 'NetworkPolicy');
  });

  it('deny ingress to every pod of the release, hook Jobs included, and leave other pods alone', () => {
    const deny = named(policies, 'shop-default-deny');
    expect(deny.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'shop' } },
      policyTypes: ['Ingress'],
      ingress: [],
    });
    for (const workload of workloads(objects)) {
      const labels = workload.spec.template.metadata.labels ?? {};
      expect(selects(deny.spec.podSelector, labels), workload.metadata.name).toBe(true);
    }
    for (const job of ofKind<Workload>(objects, 'Job')) {
      const labels = job.spec.template.metadata.labels ?? {};
      for (const port of [8080, 3101, daprInternalPort, daprMetricsPort])
        expect(
          ingressAllowed(policies, labels, port, fromNamespace(namespace, appPod('gateway'))),
        ).toBe(false);
    }
    // Tilt's throw-away Redis in the same namespace is no pod of the release.
    expect(ingressAllowed(policies, { 'app.kubernetes.io/name': 'redis' }, 6379, elsewhere)).toBe(
      true,
    );
    // One policy per service beside it, named after it.
    expect(policies.map((p) => p.metadata.name).sort()).toEqual(
      ['shop-default-deny', ...allServices].sort(),
    );
  });

  it("let only the gateway take clients, and every app's sidecar only its callers'", () => {
    for (const callee of allServices) {
      const labels = appPod(callee);
      const port = values.services[callee].port as number;
      const exposed = Boolean(values.services[callee].expose);
      expect(exposed, callee).toBe(callee === 'gateway');
      // From outside the namespace: the gateway's app port, nothing else.
      expect(ingressAllowed(policies, labels, port, elsewhere), `${callee}:${port}`).toBe(exposed);
      expect(ingressAllowed(policies, labels, daprInternalPort, elsewhere), callee).toBe(false);
      // Dapr's APIs are for the app beside it only (they listen on loopback anyway).
      for (const local of [3500, 50001])
        expect(
          ingressAllowed(policies, labels, local, fromNamespace(namespace, appPod('gateway'))),
        ).toBe(false);
      for (const caller of allServices) {
        const source = fromNamespace(namespace, appPod(caller));
        const listed = Object.hasOwn(accessControl[callee] ?? {}, caller);
        expect(
          ingressAllowed(policies, labels, daprInternalPort, source),
          `${caller} -> ${callee}`,
        ).toBe(listed);
        // An app's own port is its sidecar's to call (over localhost), or the public's.
        if (!exposed)
          expect(
            ingressAllowed(policies, labels, port, source),
            `${caller} -> ${callee}:${port}`,
          ).toBe(false);
      }
      // The same app id in another namespace, or another release's pod, is not a caller.
      expect(
        ingressAllowed(
          policies,
          labels,
          daprInternalPort,
          fromNamespace('other', appPod('gateway')),
        ),
      ).toBe(false);
      const otherRelease = { ...appPod('gateway'), 'app.kubernetes.io/instance': 'other' };
      expect(
        ingressAllowed(policies, labels, daprInternalPort, fromNamespace(namespace, otherRelease)),
      ).toBe(false);
    }
    // The gateway takes no invocations at all.
    expect(accessControl.gateway).toEqual({});
  });

  it("let the monitoring namespace scrape the apps' metrics ports and their sidecars', and no one else", () => {
    for (const name of allServices) {
      const labels = appPod(name);
      const port = values.services[name].port as number;
      // The metrics port, never the app port (unless that is public: the gateway's).
      expect(ingressAllowed(policies, labels, appMetricsPort, monitoring), name).toBe(true);
      expect(ingressAllowed(policies, labels, appMetricsPort, elsewhere), name).toBe(false);
      expect(ingressAllowed(policies, labels, port, monitoring), name).toBe(name === 'gateway');
      expect(ingressAllowed(policies, labels, daprMetricsPort, monitoring), name).toBe(true);
      expect(ingressAllowed(policies, labels, daprMetricsPort, elsewhere), name).toBe(false);
      expect(ingressAllowed(policies, labels, daprInternalPort, monitoring), name).toBe(false);
    }
    const none = ofKind(render(['--set-json', 'networkPolicy.metricsFrom=[]']), 'NetworkPolicy');
    for (const name of allServices)
      expect(ingressAllowed(none, appPod(name), daprMetricsPort, monitoring), name).toBe(false);
  });

  it("admit only the ingress controller's namespace to the gateway behind the Ingress", () => {
    const behind = ofKind(
      render(['--set', 'ingress.enabled=true', '--set', 'ingress.controllerNamespace=traefik']),
      'NetworkPolicy',
    );
    const gateway = appPod('gateway');
    expect(ingressAllowed(behind, gateway, 8080, fromNamespace('traefik'))).toBe(true);
    // No other pod, the release's own included, can hand it an X-Forwarded-For.
    expect(ingressAllowed(behind, gateway, 8080, fromNamespace('ingress-nginx'))).toBe(false);
    expect(ingressAllowed(behind, gateway, 8080, fromNamespace(namespace, appPod('users')))).toBe(
      false,
    );
    expect(ingressAllowed(behind, gateway, 8080, elsewhere)).toBe(false);
    // Without the Ingress, a NodePort or LoadBalancer needs it open to anyone.
    expect(ingressAllowed(policies, gateway, 8080, elsewhere)).toBe(true);
    expect(
      renderError([
        ...tokens,
        '--set',
        'ingress.enabled=true',
        '--set',
        'ingress.controllerNamespace=',
      ]),
    ).toContain('ingress.controllerNamespace is required with ingress.enabled');
  });

  it('narrow the gateway to the ingress controller when publicFrom says so', () => {
    const controller = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
    };
    const narrowed = ofKind(
      render([
        '--set',
        'ingress.enabled=true',
        '--set-json',
        `networkPolicy.publicFrom=[${JSON.stringify(controller)}]`,
      ]),
      'NetworkPolicy',
    );
    expect(ingressAllowed(narrowed, appPod('gateway'), 8080, fromNamespace('ingress-nginx'))).toBe(
      true,
    );
    expect(ingressAllowed(narrowed, appPod('gateway'), 8080, elsewhere)).toBe(false);
  });

  it('leave egress open by default, and restrict it to DNS, Dapr, the callees and what is listed', () => {
    for (const policy of policies)
      expect(policy.spec.policyTypes, policy.metadata.name).toEqual(['Ingress']);
    const store = { to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ port: 5432 }] };
    const restricted = ofKind(
      render([
        '--set',
        'networkPolicy.egress.restrict=true',
        '--set-json',
        `networkPolicy.egress.to=[${JSON.stringify(store)}]`,
      ]),
      'NetworkPolicy',
    );
    const deny = named(restricted, 'shop-default-deny');
    expect(deny.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(deny.spec.egress).toEqual([
      {
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
      {
        to: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dapr-system' } } },
        ],
      },
      store,
    ]);
    for (const caller of allServices) {
      const policy = named(restricted, caller);
      expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      const callees = allServices.filter((callee) =>
        Object.hasOwn(accessControl[callee] ?? {}, caller),
      );
      const rules = policy.spec.egress as PolicyRule[];
      if (callees.length === 0) {
        expect(rules, caller).toEqual([]);
        continue;
      }
      expect(rules, caller).toHaveLength(1);
      expect(rules[0]?.ports).toEqual([{ port: daprInternalPort, protocol: 'TCP' }]);
      for (const callee of allServices) {
        const reaches = rules[0]?.to?.some((peer) =>
          peerAdmits(peer, fromNamespace(namespace, appPod(callee))),
        );
        expect(reaches, `${caller} -> ${callee}`).toBe(callees.includes(callee));
      }
    }
  });

  it('are left out when networkPolicy.enabled is false', () => {
    expect(ofKind(render(['--set', 'networkPolicy.enabled=false']), 'NetworkPolicy')).toEqual([]);
  });
});
