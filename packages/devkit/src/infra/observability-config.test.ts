import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findRepoRoot } from '../process/repo-root.ts';
import { ensureDebianProgram } from '../process/system.ts';
import { jaegerConfig, writeDaprTracingConfig } from './jaeger.ts';
import { prometheusConfig, type ScrapeTarget } from './prometheus-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'shop-observability-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const repoRoot = findRepoRoot(import.meta.dirname);

describe("the sidecars' per-run configuration", () => {
  it('exports traces to the given OTLP address and keeps everything else', () => {
    const from = join(repoRoot, 'components', 'config.yaml');
    const to = join(dir, 'run', 'dapr-config.yaml');
    writeDaprTracingConfig(from, to, '127.0.0.1:4317');
    const original = parse(readFileSync(from, 'utf8'));
    const copy = parse(readFileSync(to, 'utf8'));
    expect(copy.spec.tracing.otel).toEqual({
      endpointAddress: '127.0.0.1:4317',
      isSecure: false,
      protocol: 'grpc',
    });
    expect(copy.spec.tracing.samplingRate).toBe(original.spec.tracing.samplingRate);
    expect({ ...copy.spec, tracing: undefined }).toEqual({ ...original.spec, tracing: undefined });
    expect(copy.metadata).toEqual(original.metadata);
  });

  it('samples every request when the original names no rate', () => {
    const from = join(dir, 'bare.yaml');
    writeFileSync(from, 'apiVersion: dapr.io/v1alpha1\nkind: Configuration\nspec: {}\n');
    const to = join(dir, 'bare-copy.yaml');
    writeDaprTracingConfig(from, to, '127.0.0.1:1');
    expect(parse(readFileSync(to, 'utf8')).spec.tracing.samplingRate).toBe('1');
  });

  it('samples at the rate asked for, whatever the original says', () => {
    const to = join(dir, 'sampled.yaml');
    writeDaprTracingConfig(join(repoRoot, 'components', 'config.yaml'), to, '127.0.0.1:1', 0.25);
    expect(parse(readFileSync(to, 'utf8')).spec.tracing.samplingRate).toBe('0.25');
  });
});

describe("Jaeger's configuration", () => {
  it('listens on the given loopback ports only, with a bounded in-memory store', () => {
    const config = parse(
      jaegerConfig({ otlpGrpc: 1, otlpHttp: 2, queryHttp: 3, queryGrpc: 4 }, 50),
    );
    expect(config.receivers.otlp.protocols).toEqual({
      grpc: { endpoint: '127.0.0.1:1' },
      http: { endpoint: '127.0.0.1:2' },
    });
    expect(config.extensions.jaeger_query.http.endpoint).toBe('127.0.0.1:3');
    expect(config.extensions.jaeger_query.grpc.endpoint).toBe('127.0.0.1:4');
    expect(config.extensions.jaeger_storage.backends.memstore.memory.max_traces).toBe(50);
    // Its own metrics would otherwise listen on port 8888 of every shop.
    expect(config.service.telemetry.metrics.level).toBe('none');
  });
});

describe("Prometheus's configuration", () => {
  const targets: ScrapeTarget[] = [
    { job: 'services', instance: 'orders', port: 9101 },
    { job: 'daprd', instance: 'orders-dapr', port: 9201 },
  ];

  it('labels each target with its process name, one job per kind', () => {
    const config = parse(prometheusConfig(targets, []));
    expect(config.global.scrape_interval).toBe('5s');
    expect(config.scrape_configs).toEqual([
      {
        job_name: 'services',
        static_configs: [{ targets: ['127.0.0.1:9101'], labels: { instance: 'orders' } }],
      },
      {
        job_name: 'daprd',
        static_configs: [{ targets: ['127.0.0.1:9201'], labels: { instance: 'orders-dapr' } }],
      },
    ]);
  });

  it('passes promtool check config', () => {
    const file = join(dir, 'prometheus.yml');
    writeFileSync(file, prometheusConfig(targets, []));
    const promtool = ensureDebianProgram('promtool', 'prometheus');
    const result = spawnSync(promtool, ['check', 'config', file], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });
});
