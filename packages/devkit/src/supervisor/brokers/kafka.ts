import type { BrokerHandle, BrokerStartOptions } from './index.ts';

export async function startKafka(_options: BrokerStartOptions): Promise<BrokerHandle> {
  throw new Error('the kafka profile is not written yet');
}
