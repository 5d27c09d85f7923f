import type { BrokerHandle, BrokerStartOptions } from './index.ts';

/**
 * Makes sure everything the rabbitmq profile needs is on this machine (installed, built or
 * resolved once and cached), and returns the version it will run. npm test's setup calls
 * it, so no test waits for an install.
 */
export function prepareRabbitMQ(_repoRoot: string): string {
  throw new Error('the rabbitmq profile is not written yet');
}

export async function startRabbitMQ(_options: BrokerStartOptions): Promise<BrokerHandle> {
  throw new Error('the rabbitmq profile is not written yet');
}
