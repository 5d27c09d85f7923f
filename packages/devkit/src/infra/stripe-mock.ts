import { pollUntil } from '../process/poll.ts';
import { freePorts } from '../process/ports.ts';
import { ProcessGroup } from '../process/processes.ts';
import { findRepoRoot } from '../process/repo-root.ts';
import { type GoTool, resolveGoTool } from '../toolchain/go-tool.ts';

const stripeMockModule = 'github.com/stripe/stripe-mock';

export const stripeMockTool: GoTool = {
  name: 'stripe-mock',
  wrapperDir: 'tools/stripe-mock',
  module: stripeMockModule,
  mainPackage: stripeMockModule,
  // Unstamped, a source build reports itself as `master`.
  ldflags: (version) => `-s -w -X main.version=${version}`,
  buildEnv: { CGO_ENABLED: '0' },
  versionArgs: ['-version'],
  // It prints `stripe-mock <version>`.
  versionFrom: (output) => /^stripe-mock (\S+)$/m.exec(output)?.[1],
  pathVariable: 'STRIPE_MOCK_PATH',
};

/** A stripe-mock of the pinned version, built and cached on first use. */
export const resolveStripeMock = (repoRoot: string) => resolveGoTool(repoRoot, stripeMockTool);

export type RunningStripeMock = {
  /** Where the Stripe SDK should send its requests, e.g. `http://127.0.0.1:41234`. */
  url: string;
  stop(): Promise<void>;
};

/**
 * A private stripe-mock (Stripe's API answered from its OpenAPI fixtures, stateless; it
 * reflects request parameters and the Idempotency-Key header into its answers) on a free
 * loopback port; resolves once it answers.
 *
 * @example
 * const stripeMock = await startStripeMock();
 * const stripe = new Stripe('sk_test_123', { host: '127.0.0.1', port: new URL(stripeMock.url).port, protocol: 'http' });
 * await stripeMock.stop();
 */
export async function startStripeMock(
  options: {
    repoRoot?: string;
    /** A JSON file of fixtures (`{ "resources": { "payment_intent": {...} } }`) answered instead of the bundled ones. */
    fixtures?: string;
  } = {},
): Promise<RunningStripeMock> {
  const binary = resolveStripeMock(options.repoRoot ?? findRepoRoot());
  // It serves HTTPS too unless told where; on loopback, so neither port is open to others.
  const [port, httpsPort] = await freePorts(2);
  let output = '';
  const group = new ProcessGroup({
    output: (_name, line) => {
      output = `${output}${line}\n`.slice(-4_000);
    },
    // One that dies by itself fails its start below, or the requests of its test.
    onUnexpectedExit: () => {},
  });
  group.start({
    name: 'stripe-mock',
    command: binary,
    args: [
      '-http-addr',
      `127.0.0.1:${port}`,
      '-https-addr',
      `127.0.0.1:${httpsPort}`,
      ...(options.fixtures ? ['-fixtures', options.fixtures] : []),
    ],
    cwd: process.cwd(),
    env: { PATH: process.env.PATH },
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = () => group.stop('stripe-mock', { graceMs: 2_000 });
  // It loads and indexes its whole OpenAPI spec before it listens.
  try {
    await pollUntil(async () => ((await answers(url)) ? true : undefined), {
      what: `stripe-mock to answer on ${url}`,
      timeoutMs: 30_000,
      intervalMs: 50,
      giveUpIf: () => (group.has('stripe-mock') ? undefined : `stripe-mock exited`),
    });
    return { url, stop };
  } catch (error) {
    await stop();
    throw new Error(
      `stripe-mock did not answer on ${url} (${(error as Error).message})\n${output}`,
    );
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    // Any HTTP answer (401 without a key) means it is listening.
    await fetch(`${url}/v1/balance`, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
}
