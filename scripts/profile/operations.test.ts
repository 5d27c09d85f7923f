import { describe, expect, it } from 'vitest';
import { perUnit, sumCounters } from './operations.ts';

describe('counting operations', () => {
  it('sums every series of the named counters and nothing else', () => {
    const exposition = [
      '# HELP dapr_component_pubsub_ingress_count The number of incoming messages.',
      '# TYPE dapr_component_pubsub_ingress_count counter',
      'dapr_component_pubsub_ingress_count{app_id="orders",topic="payment.authorized"} 12',
      'dapr_component_pubsub_ingress_count{app_id="orders",topic="stock.reserved"} 3',
      'dapr_component_pubsub_ingress_count_other 100',
      'dapr_http_server_request_count{method="POST"} 1.5e+01',
    ].join('\n');
    const sums = sumCounters(exposition, [
      'dapr_component_pubsub_ingress_count',
      'dapr_http_server_request_count',
      'dapr_component_state_count',
    ]);
    expect(Object.fromEntries(sums)).toEqual({
      dapr_component_pubsub_ingress_count: 15,
      dapr_http_server_request_count: 15,
      dapr_component_state_count: 0,
    });
  });

  it('divides what grew by the units of work', () => {
    const before = new Map([['deliveries', 10]]);
    const after = new Map([
      ['deliveries', 50],
      ['postgres transactions', 20],
    ]);
    expect(perUnit(before, after, 10)).toEqual([
      { name: 'deliveries', perUnit: 4 },
      { name: 'postgres transactions', perUnit: 2 },
    ]);
  });
});
