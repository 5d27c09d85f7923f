import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { pollUntil } from '../process/poll.ts';
import { httpAnswersOk } from '../process/probes.ts';
import type { ProcessGroup } from '../process/processes.ts';
import { type GoTool, resolveGoTool } from '../toolchain/go-tool.ts';

const jaegerModule = 'github.com/jaegertracing/jaeger';

/**
 * Jaeger v2 (cmd/jaeger: an OpenTelemetry Collector with Jaeger's storage and query
 * extensions). Its Go module keeps the v1 tag numbers: module v1.75.0 is Jaeger v2.12.0.
 */
export const jaegerTool: GoTool = {
  name: 'jaeger',
  wrapperDir: 'tools/jaeger',
  module: jaegerModule,
  mainPackage: `${jaegerModule}/cmd/jaeger`,
  // Unstamped, `jaeger version` reports an empty gitVersion.
  ldflags: (version) => `-s -w -X ${jaegerModule}/internal/version.latestVersion=v${version}`,
  buildEnv: { CGO_ENABLED: '0' },
  versionArgs: ['version'],
  // It prints one line of JSON: {"gitCommit":"","gitVersion":"v1.75.0","buildDate":""}.
  versionFrom: (output) => /"gitVersion":"([^"]*)"/.exec(output)?.[1],
  pathVariable: 'JAEGER_PATH',
};

/** A Jaeger of the pinned version, built and cached on first use. */
export const resolveJaeger = (repoRoot: string) => resolveGoTool(repoRoot, jaegerTool);

/** The group's process name of the shop's trace store. */
export const jaegerProcessName = 'jaeger';

export type JaegerPorts = {
  /** OTLP over gRPC (the sidecars export here). */
  otlpGrpc: number;
  /** OTLP over HTTP (the services export here). */
  otlpHttp: number;
  /** The query API (`/api/traces`, `/api/v3/traces`) over HTTP, and over gRPC. */
  queryHttp: number;
  queryGrpc: number;
};

/** How many of the newest traces the in-memory store keeps before it drops the oldest. */
export const jaegerDefaultMaxTraces = 1_000;

export type JaegerHandle = {
  /** The query API, e.g. http://127.0.0.1:41234/api/traces?service=orders. */
  queryUrl: string;
  /** What OTEL_EXPORTER_OTLP_ENDPOINT names: OTLP over HTTP. */
  otlpHttpUrl: string;
  /** host:port of OTLP over gRPC. */
  otlpGrpcAddress: string;
};

const loopback = (port: number) => `127.0.0.1:${port}`;

/**
 * Jaeger's collector configuration: OTLP in, batched into a bounded in-memory store, read
 * through the query API; every listener on loopback at the given ports, and none of the
 * defaults' fixed ports (its own metrics on 8888 would collide between two shops).
 */
export function jaegerConfig(ports: JaegerPorts, maxTraces = jaegerDefaultMaxTraces): string {
  const store = 'memstore';
  return stringify({
    service: {
      extensions: ['jaeger_storage', 'jaeger_query'],
      pipelines: {
        traces: {
          receivers: ['otlp'],
          processors: ['batch'],
          exporters: ['jaeger_storage_exporter'],
        },
      },
      telemetry: { metrics: { level: 'none' }, logs: { level: 'warn' } },
    },
    extensions: {
      jaeger_storage: { backends: { [store]: { memory: { max_traces: maxTraces } } } },
      jaeger_query: {
        storage: { traces: store },
        // It would trace its own queries into the store it serves.
        enable_tracing: false,
        http: { endpoint: loopback(ports.queryHttp) },
        grpc: { endpoint: loopback(ports.queryGrpc) },
      },
    },
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: loopback(ports.otlpGrpc) },
          http: { endpoint: loopback(ports.otlpHttp) },
        },
      },
    },
    processors: { batch: {} },
    exporters: { jaeger_storage_exporter: { trace_storage: store } },
  });
}

/**
 * A private Jaeger keeping at most `maxTraces` traces in memory (nothing on disk; its
 * configuration is written to `<dataDir>/jaeger/config.yaml`); resolves once its query API
 * answers. A source build serves the API only: the UI's assets are not in its Go module.
 */
export async function startJaeger(
  group: ProcessGroup,
  options: { binary: string; dataDir: string; ports: JaegerPorts; maxTraces?: number },
): Promise<JaegerHandle> {
  const dir = join(options.dataDir, 'jaeger');
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, jaegerConfig(options.ports, options.maxTraces));
  group.start({
    name: jaegerProcessName,
    command: options.binary,
    args: ['--config', configFile],
    cwd: dir,
    env: { PATH: process.env.PATH },
  });
  const queryUrl = `http://${loopback(options.ports.queryHttp)}`;
  await pollUntil(
    async () => ((await httpAnswersOk(`${queryUrl}/api/services`)) ? true : undefined),
    {
      what: `jaeger to answer on ${queryUrl}`,
      timeoutMs: 30_000,
      intervalMs: 100,
      giveUpIf: () =>
        group.has(jaegerProcessName) ? undefined : 'jaeger exited during start (see its log)',
    },
  );
  return {
    queryUrl,
    otlpHttpUrl: `http://${loopback(options.ports.otlpHttp)}`,
    otlpGrpcAddress: loopback(options.ports.otlpGrpc),
  };
}

/**
 * Writes a copy of the sidecars' Configuration (`from`) to `to` with its traces exported
 * over OTLP/gRPC to `otlpGrpcAddress`, sampled at `samplingRate` when given; everything else
 * stays as it is. The port is chosen at each start, so the copy is made per run.
 */
export function writeDaprTracingConfig(
  from: string,
  to: string,
  otlpGrpcAddress: string,
  samplingRate?: number,
): void {
  const doc = parseDocument(readFileSync(from, 'utf8'));
  if (doc.errors.length > 0) throw new Error(`${from}: ${doc.errors[0]?.message}`);
  doc.setIn(['spec', 'tracing', 'otel'], {
    endpointAddress: otlpGrpcAddress,
    isSecure: false,
    protocol: 'grpc',
  });
  if (samplingRate !== undefined)
    doc.setIn(['spec', 'tracing', 'samplingRate'], String(samplingRate));
  else if (!doc.hasIn(['spec', 'tracing', 'samplingRate']))
    doc.setIn(['spec', 'tracing', 'samplingRate'], '1');
  mkdirSync(dirname(to), { recursive: true });
  writeFileSync(to, `# Written by npm start from ${from}; changes here are lost.\n${doc}`);
}
