import { describe, expect, it } from 'vitest';
import { onlyProcesses, type ProfilePorts, profilingArgs } from './record.ts';

const ports: ProfilePorts = {
  inspector: new Map([
    ['gateway', 21_001],
    ['orders', 21_002],
  ]),
  pprof: new Map([
    ['gateway-dapr', 21_003],
    ['orders-dapr', 21_004],
  ]),
};

describe('profiling a shop', () => {
  it("opens each service's inspector on loopback and each sidecar's pprof server", () => {
    expect(profilingArgs(ports)).toEqual({
      gateway: ['--inspect=127.0.0.1:21001'],
      orders: ['--inspect=127.0.0.1:21002'],
      'gateway-dapr': ['--enable-profiling', '--profile-port', '21003'],
      'orders-dapr': ['--enable-profiling', '--profile-port', '21004'],
    });
  });

  it('keeps only the named processes', () => {
    const hop = onlyProcesses(ports, ['gateway', 'gateway-dapr', 'redis']);
    expect([...hop.inspector.keys()]).toEqual(['gateway']);
    expect([...hop.pprof.keys()]).toEqual(['gateway-dapr']);
  });
});
