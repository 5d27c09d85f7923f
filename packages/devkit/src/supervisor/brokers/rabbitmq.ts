import type { BrokerHandle, BrokerStartOptions } from './index.ts';

export async function startRabbitMQ(_options: BrokerStartOptions): Promise<BrokerHandle> {
  throw new Error('the rabbitmq profile is not written yet');
}
