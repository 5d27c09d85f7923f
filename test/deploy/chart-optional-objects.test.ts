import { startTestCluster, type TestCluster } from '@shop/devkit/cluster';
import { runCommand } from '@shop/devkit/process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartDir, prepareHelm, repoRoot } from './support/chart.ts';
import { allServices, tokens } from './support/hardening.ts';

beforeAll(() => {
  prepareHelm();
}, 15 * 60_000);

// test/deploy/cluster.test.ts installs the default values and each profile into a real API
// server; the objects only other values make are checked here the same way.
describe('the optional objects, in a real Kubernetes API server', () => {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await startTestCluster({ repoRoot });
  }, 15 * 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  /** The strict server-side dry run of what the values render, hooks included. */
  async function strictDryRun(ns: string, args: string[]) {
    if (!cluster) throw new Error('no cluster');
    // Never spawnSync while the cluster runs: the event loop drains its output pipes.
    const rendered = await runCommand(prepareHelm(), [
      'template',
      'shop',
      chartDir,
      '--namespace',
      ns,
      ...tokens,
      ...args,
    ]);
    expect(rendered.status, rendered.stderr).toBe(0);
    await cluster.kubectl(['create', 'namespace', ns]);
    return cluster.kubectl(
      [
        'apply',
        '--server-side',
        '--dry-run=server',
        '--validate=strict',
        '--namespace',
        ns,
        '-f',
        '-',
      ],
      rendered.stdout,
    );
  }

  it('accepts autoscalers, restricted egress, a narrowed gateway and the Ingress, strictly and without warnings', async () => {
    const result = await strictDryRun('hardening', [
      '--set',
      'defaults.autoscaling.enabled=true',
      '--set',
      'services.users.autoscaling.enabled=false',
      '--set',
      'podDisruptionBudget.maxUnavailable=25%',
      '--set',
      'ingress.enabled=true',
      '--set',
      'networkPolicy.egress.restrict=true',
      '--set-json',
      'networkPolicy.egress.to=[{"to":[{"ipBlock":{"cidr":"10.20.0.0/16","except":["10.20.1.0/24"]}}],"ports":[{"port":5432,"protocol":"TCP"},{"port":30000,"endPort":30100}]}]',
      '--set-json',
      'networkPolicy.publicFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"ingress-nginx"}},"podSelector":{"matchExpressions":[{"key":"app","operator":"Exists"}]}}]',
    ]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr, 'the API server warned').not.toMatch(/warning/i);
    for (const name of allServices.filter((n) => n !== 'users'))
      expect(result.stdout).toContain(
        `horizontalpodautoscaler.autoscaling/${name} serverside-applied`,
      );
    for (const name of ['shop-default-deny', ...allServices]) {
      expect(result.stdout).toContain(`networkpolicy.networking.k8s.io/${name} serverside-applied`);
      if (name !== 'shop-default-deny')
        expect(result.stdout).toContain(`poddisruptionbudget.policy/${name} serverside-applied`);
    }
    expect(result.stdout).toContain('configuration.dapr.io/shop-users serverside-applied');
  });

  it('rejects what it should, so that the check above cannot pass silently', async () => {
    const result = await strictDryRun('hardening-broken', [
      '--set',
      'networkPolicy.egress.restrict=true',
      '--set-json',
      'networkPolicy.egress.to=[{"to":[{"ipBlock":{"cidr":"not-a-cidr"}}]}]',
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('not-a-cidr');
  });
});
