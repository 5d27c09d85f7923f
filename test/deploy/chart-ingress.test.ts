import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type K8sObject, named, ofKind, prepareHelm, repoRoot } from './support/chart.ts';
import { render, renderError, schema, tokens } from './support/hardening.ts';
import type { Workload } from './support/workloads.ts';

beforeAll(() => {
  prepareHelm();
}, 15 * 60_000);

describe('the Ingress', () => {
  const hopsOf = (objects: K8sObject[]) =>
    named(
      ofKind<Workload>(objects, 'Deployment'),
      'gateway',
    ).spec.template.spec.containers[0]?.env?.filter((env) => env.name === 'TRUSTED_PROXY_HOPS');

  it("hands the gateway the client's address: TRUSTED_PROXY_HOPS from ingress.trustedProxyHops", () => {
    expect(hopsOf(render())).toEqual([]);
    expect(hopsOf(render(['--set', 'ingress.enabled=true']))).toEqual([
      { name: 'TRUSTED_PROXY_HOPS', value: '1' },
    ]);
    expect(
      hopsOf(render(['--set', 'ingress.enabled=true', '--set', 'ingress.trustedProxyHops=2'])),
    ).toEqual([{ name: 'TRUSTED_PROXY_HOPS', value: '2' }]);
    // Only the gateway is behind the Ingress.
    for (const deployment of ofKind<Workload>(
      render(['--set', 'ingress.enabled=true']),
      'Deployment',
    )) {
      if (deployment.metadata.name === 'gateway') continue;
      const names = deployment.spec.template.spec.containers[0]?.env?.map((env) => env.name);
      expect(names, deployment.metadata.name).not.toContain('TRUSTED_PROXY_HOPS');
    }
    // A proxy of your own without the Ingress: the gateway's env says so.
    expect(hopsOf(render(['--set', 'services.gateway.env.TRUSTED_PROXY_HOPS=1']))).toEqual([
      { name: 'TRUSTED_PROXY_HOPS', value: '1' },
    ]);
  });

  it('takes the hop count once, within what the gateway accepts', () => {
    expect(
      renderError([
        ...tokens,
        '--set',
        'ingress.enabled=true',
        '--set',
        'services.gateway.env.TRUSTED_PROXY_HOPS=3',
      ]),
    ).toContain(
      'services.gateway.env.TRUSTED_PROXY_HOPS (3) and ingress.trustedProxyHops (1) differ',
    );
    const config = readFileSync(join(repoRoot, 'services/gateway/src/config.ts'), 'utf8');
    const [, min, max] =
      /TRUSTED_PROXY_HOPS: z\.coerce\.number\(\)\.int\(\)\.min\((\d+)\)\.max\((\d+)\)/.exec(
        config,
      ) ?? [];
    const hops = schema.properties.ingress.properties.trustedProxyHops;
    expect([hops.minimum, hops.maximum]).toEqual([Number(min), Number(max)]);
    expect(renderError(['--set', `ingress.trustedProxyHops=${Number(max) + 1}`])).toContain(
      "at '/ingress/trustedProxyHops'",
    );
  });
});
