import { beforeAll, describe, expect, it } from 'vitest';
import { chartDir, helm, prepareHelm } from './support/chart.ts';
import { renderError, schema, tokens, values } from './support/hardening.ts';

beforeAll(() => {
  prepareHelm();
}, 15 * 60_000);

describe('values.schema.json', () => {
  // biome-ignore lint/suspicious/noExplicitAny: JSON Schema nodes
  type Schema = Record<string, any>;
  const resolve = (node: Schema): Schema =>
    node.$ref ? resolve(schema.definitions[String(node.$ref).replace('#/definitions/', '')]) : node;

  /** The schemas that describe `key` of an object described by `node` (any branch of allOf/anyOf/oneOf). */
  function childSchemas(node: Schema, key: string | number): Schema[] {
    const at = resolve(node);
    const branches = [...(at.allOf ?? []), ...(at.anyOf ?? []), ...(at.oneOf ?? [])].flatMap(
      (b: Schema) => childSchemas(b, key),
    );
    if (typeof key === 'number') return at.items ? [at.items, ...branches] : branches;
    if (at.properties?.[key]) return [at.properties[key], ...branches];
    if (typeof at.additionalProperties === 'object') {
      const names = at.propertyNames ? resolve(at.propertyNames) : undefined;
      if (!names?.pattern || new RegExp(names.pattern).test(key))
        return [at.additionalProperties, ...branches];
    }
    return branches;
  }

  it('describes every value of values.yaml', () => {
    const undescribed: string[] = [];
    let checked = 0;
    const walk = (value: unknown, node: Schema, path: string) => {
      checked++;
      if (Array.isArray(value))
        for (const [i, item] of value.entries()) child(item, node, i, `${path}[${i}]`);
      else if (value && typeof value === 'object')
        for (const [key, item] of Object.entries(value)) child(item, node, key, `${path}.${key}`);
    };
    const child = (value: unknown, node: Schema, key: string | number, path: string) => {
      const [child] = childSchemas(node, key);
      if (!child) undescribed.push(path);
      else walk(value, child, path);
    };
    walk(values, schema, '');
    expect(undescribed).toEqual([]);
    expect(checked).toBeGreaterThan(150);
  });

  it('leaves no object open to keys it does not describe', () => {
    const open: string[] = [];
    const visit = (node: unknown, path: string) => {
      if (!node || typeof node !== 'object') return;
      const schemaNode = node as Schema;
      if (schemaNode.type === 'object' && schemaNode.additionalProperties === undefined)
        open.push(path);
      for (const [key, child] of Object.entries(schemaNode)) visit(child, `${path}/${key}`);
    };
    visit(schema, '#');
    expect(open).toEqual([]);
  });

  it.each([
    ['networkPolcy.enabled=false', 'networkPolcy'],
    ['networkPolicy.enabeld=false', 'enabeld'],
    ['networkPolicy.egress.restirct=true', 'restirct'],
    ['podDisruptionBudget.maxUnavailabe=1', 'maxUnavailabe'],
    ['defaults.autoscaling.maxReplica=3', 'maxReplica'],
    ['services.users.autoscaling.enable=true', 'enable'],
    ['defaults.resources.limits.cpus=2', 'cpus'],
    ['dapr.acessControl.users.gateway=all', 'acessControl'],
    ['dapr.sidecar.cpuLimt=1', 'cpuLimt'],
    ['dapr.tracing.otlp.endpont=collector:4317', 'endpont'],
    ['ingress.trustedProxyHop=2', 'trustedProxyHop'],
    ['podSecurityContext.runAsUsr=1000', 'runAsUsr'],
    ['containerSecurityContext.readOnlyRootFS=false', 'readOnlyRootFS'],
    ['image.pullPolcy=Always', 'pullPolcy'],
    ['apiTokens.creat=false', 'creat'],
    ['jwt.secretname=keys', 'secretname'],
    ['secretStore.nmae=store', 'nmae'],
    ['migrations.enable=false', 'enable'],
    ['broker.nats.streams.replica=3', 'replica'],
  ])('refuses the typo %s in helm template and helm lint', (setting, key) => {
    const message = `additional properties '${key}' not allowed`;
    expect(renderError([...tokens, '--set', setting])).toContain(message);
    const lint = helm(['lint', '--strict', chartDir, ...tokens, '--set', setting]);
    expect(lint.status).not.toBe(0);
    expect(lint.stdout + lint.stderr).toContain(message);
  });

  it.each([
    ['networkPolicy.enabled=maybe', '/networkPolicy/enabled'],
    ['podDisruptionBudget.maxUnavailable=0', '/podDisruptionBudget/maxUnavailable'],
    ['services.users.port=50002', '/services/users/port'],
    [
      'defaults.autoscaling.targetCPUUtilizationPercentage=150',
      '/defaults/autoscaling/targetCPUUtilizationPercentage',
    ],
    ['defaults.resources.requests.memory=lots', '/defaults/resources'],
    ['podSecurityContext.seccompProfile.type=Off', '/podSecurityContext/seccompProfile/type'],
    ['dapr.trustDomain=Not A Domain', '/dapr/trustDomain'],
  ])('refuses the wrong value %s', (setting, path) => {
    expect(renderError([...tokens, '--set', setting])).toContain(`at '${path}`);
  });
});
