import { randomInt } from 'node:crypto';
import { createServer, type Server } from 'node:net';

// Ports are drawn at random from below Linux's ephemeral range (32768-60999 by default).
// The kernel hands ports from that range to every outgoing connection, so a port picked
// there and bound a few seconds later by daprd or a service was, under a loaded test run,
// sometimes already taken by some client's connection ("address already in use"). Below it,
// only another listener that picked the same port can collide, and random draws make that rare.
const lowest = 20_000;
const highest = 32_000;

// A shop picks its apps' and sidecars' ports first, lets them go, and binds them seconds
// later; meanwhile its PostgreSQL and FerretDB pick theirs. Never handing a port out twice
// in one process keeps those apart (a sidecar that lost its port to PostgreSQL that way
// exited at start, in two of four full test runs).
const handedOut = new Set<number>();

/**
 * Never hands out `port`: one chosen elsewhere (the gateway's GATEWAY_PORT, picked by a
 * caller such as a test in another process) and bound only later, as a drawn one might be.
 */
export function claimPort(port: number): void {
  handedOut.add(port);
}

function listen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * Reserves `count` distinct free TCP ports on loopback, outside the kernel's ephemeral
 * range, none of them handed out before by this process.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = new Map<number, Server>();
  try {
    for (let tries = 0; servers.size < count; tries++) {
      if (tries > count * 50)
        throw new Error(`no ${count} free ports between ${lowest} and ${highest}`);
      const port = randomInt(lowest, highest);
      if (servers.has(port) || handedOut.has(port)) continue;
      const server = await listen(port);
      if (server) servers.set(port, server);
    }
    for (const port of servers.keys()) handedOut.add(port);
    return [...servers.keys()];
  } finally {
    await Promise.all(
      [...servers.values()].map((server) => new Promise((resolve) => server.close(resolve))),
    );
  }
}
