import type { BrokerHandle, BrokerStartOptions } from './index.ts';

export async function startNats(_options: BrokerStartOptions): Promise<BrokerHandle> {
  throw new Error('the nats profile is not written yet');
}
