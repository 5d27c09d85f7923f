// The bare gateway hop's CPU per request, by process: vegeta sends GET
// /.well-known/jwks.json through the gateway at a constant rate (gateway -> its daprd ->
// users' daprd -> users, the gateway's rate limiter in Redis), and /proc says what each
// process of the shop spent meanwhile.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestShop } from '@shop/devkit/testing';
import { cpuSnapshot, vegeta } from '../bench/checkout.ts';
import { assertLoopback } from '../bench/load.ts';
import { type CpuShare, cpuPerUnit, itemize, machineBusy } from './cpu.ts';

/** The processes one hop passes through, in the order a request meets them. */
export const hopProcesses = ['gateway', 'gateway-dapr', 'users-dapr', 'users', 'redis'];

/**
 * Dapr's published cost of a sidecar: about 0.2 ms of CPU per request per sidecar
 * (Dapr v1.17 performance report, service invocation over HTTP at 1,000 requests/s).
 */
export const daprPublishedMsPerSidecar = 0.2;

export type HopFigures = {
  rate: number;
  seconds: number;
  ok: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  machineBusy: number;
  /** The hop's processes in order, then "others" (the rest of the shop). */
  cpuMsPerRequest: CpuShare[];
};

type VegetaReport = {
  requests: number;
  latencies: { '50th': number; '99th': number };
  status_codes: Record<string, number>;
};

/** `rate` hops a second for `seconds`, and their CPU by process. */
export async function measureHop(
  shop: TestShop,
  options: { vegeta: string; workDir: string; rate: number; seconds: number },
): Promise<HopFigures> {
  const url = `${shop.gatewayUrl}/.well-known/jwks.json`;
  assertLoopback(url);
  const files = {
    targets: join(options.workDir, 'hop-targets.txt'),
    results: join(options.workDir, 'hop.bin'),
  };
  writeFileSync(files.targets, `GET ${url}\n`);
  const attack = (seconds: number) =>
    vegeta(options.vegeta, [
      'attack',
      `-targets=${files.targets}`,
      `-rate=${options.rate}/1s`,
      `-duration=${seconds}s`,
      '-timeout=10s',
      `-output=${files.results}`,
    ]);
  await attack(1); // warm-up: connections, JIT; not counted
  const before = cpuSnapshot(shop.group);
  await attack(options.seconds);
  const after = cpuSnapshot(shop.group);
  const report = JSON.parse(
    await vegeta(options.vegeta, ['report', '-type=json', files.results]),
  ) as VegetaReport;
  const ok = report.status_codes['200'] ?? 0;
  return {
    rate: options.rate,
    seconds: options.seconds,
    ok,
    errors: report.requests - ok,
    p50Ms: report.latencies['50th'] / 1e6,
    p99Ms: report.latencies['99th'] / 1e6,
    machineBusy: machineBusy(before, after),
    cpuMsPerRequest: itemize(cpuPerUnit(before, after, ok), hopProcesses),
  };
}
