import { beforeAll, describe, expect, it } from 'vitest';
import { named, ofKind, prepareHelm } from './support/chart.ts';
import { allServices, render, renderError, tokens } from './support/hardening.ts';
import { selects } from './support/network-policy.ts';
import type { Workload } from './support/workloads.ts';

beforeAll(() => {
  prepareHelm();
}, 15 * 60_000);

describe('disruption budgets and autoscalers', () => {
  it('give every service a PodDisruptionBudget of maxUnavailable 1 that never blocks a drain', () => {
    for (const replicas of [1, 3]) {
      const objects = render(['--set', `defaults.replicas=${replicas}`]);
      const budgets = ofKind(objects, 'PodDisruptionBudget');
      expect(budgets.map((b) => b.metadata.name).sort()).toEqual(allServices);
      for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
        const budget = named(budgets, deployment.metadata.name);
        expect(deployment.spec.replicas).toBe(replicas);
        expect(budget.apiVersion).toBe('policy/v1');
        expect(budget.spec).toEqual({
          maxUnavailable: 1,
          unhealthyPodEvictionPolicy: 'AlwaysAllow',
          selector: deployment.spec.selector,
        });
        expect(selects(budget.spec.selector, deployment.spec.template.metadata.labels ?? {})).toBe(
          true,
        );
      }
    }
    expect(
      ofKind(render(['--set', 'podDisruptionBudget.enabled=false']), 'PodDisruptionBudget'),
    ).toEqual([]);
  });

  it('scale nothing by default, and hand the replica count to an autoscaler where one is on', () => {
    const plain = render();
    expect(ofKind(plain, 'HorizontalPodAutoscaler')).toEqual([]);
    for (const deployment of ofKind<Workload>(plain, 'Deployment'))
      expect(deployment.spec.replicas, deployment.metadata.name).toBe(1);

    // On for every service but users, whose own false must beat the default's true.
    const objects = render([
      '--set',
      'defaults.autoscaling.enabled=true',
      '--set',
      'services.users.autoscaling.enabled=false',
      '--set',
      'services.orders.autoscaling.maxReplicas=8',
    ]);
    const autoscalers = ofKind(objects, 'HorizontalPodAutoscaler');
    expect(autoscalers.map((a) => a.metadata.name).sort()).toEqual(
      allServices.filter((n) => n !== 'users'),
    );
    for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
      const name = deployment.metadata.name;
      if (name === 'users') {
        expect(deployment.spec.replicas).toBe(1);
        continue;
      }
      // An upgrade must not reset what the autoscaler chose.
      expect(deployment.spec).not.toHaveProperty('replicas');
      const autoscaler = named(autoscalers, name);
      expect(autoscaler.apiVersion).toBe('autoscaling/v2');
      expect(autoscaler.spec).toEqual({
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: 2,
        maxReplicas: name === 'orders' ? 8 : 5,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 75 } },
          },
        ],
      });
    }
  });

  it('refuse an autoscaler without CPU requests to measure against, or with max below min', () => {
    expect(
      renderError([
        ...tokens,
        '--set',
        'services.orders.autoscaling.enabled=true',
        '--set',
        'dapr.sidecar.cpuRequest=',
      ]),
    ).toContain('services.orders.autoscaling.enabled needs CPU requests on both containers');
    expect(
      renderError([
        ...tokens,
        '--set',
        'services.orders.autoscaling.enabled=true',
        '--set',
        'services.orders.autoscaling.maxReplicas=1',
      ]),
    ).toContain('services.orders.autoscaling: maxReplicas (1) is below minReplicas (2)');
  });
});
