import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pollUntil } from './poll.ts';
import { type CrashLoop, type ExitEvent, ProcessGroup, type RestartEvent } from './processes.ts';

const quickPolicy = { initialDelayMs: 50, maxDelayMs: 200, stableAfterMs: 60_000 };

function quietGroup(): ProcessGroup {
  return new ProcessGroup({ output: () => {}, onUnexpectedExit: () => {} });
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const forever = {
  command: 'sh',
  // A grandchild in the same process group, as PostgreSQL's backends are.
  args: ['-c', 'sleep 1000 & echo "child $!"; wait'],
  cwd: '/',
  env: { PATH: process.env.PATH },
};

describe('a process group', () => {
  it("keeps each child's last 20 lines, to say why it died", async () => {
    const group = quietGroup();
    group.start({
      name: 'counter',
      command: 'sh',
      args: ['-c', 'for i in $(seq 1 30); do echo "line $i"; done; echo oops >&2; exit 3'],
      cwd: '/',
      env: {},
    });
    expect((await group.exited('counter')).code).toBe(3);
    // Output lines may trail the exit event by a tick.
    await new Promise((resolve) => setImmediate(resolve));
    const lines = group.recentOutput('counter');
    expect(lines).toHaveLength(20);
    expect(lines).toContain('oops');
    expect(lines).toContain('line 30');
    expect(lines).not.toContain('line 10');
  });
});

describe('a healing process group', () => {
  it('restarts a child that died, after killing what it left in its group', async () => {
    const group = quietGroup();
    const logged: string[] = [];
    const exits: ExitEvent[] = [];
    const restarts: RestartEvent[] = [];
    group.onExit((exit) => exits.push(exit));
    group.onRestart((event) => restarts.push(event));
    group.heal({ policy: quickPolicy, onCrashLoop: () => {}, log: (line) => logged.push(line) });
    const first = group.start({ name: 'sleeper', ...forever });
    const grandchild = await pollUntil(
      async () => /child (\d+)/.exec(group.recentOutput('sleeper').join('\n'))?.[1],
      { what: 'the grandchild', timeoutMs: 5_000 },
    );
    // Only the leader dies, as when someone runs kill -9 on its pid.
    process.kill(first, 'SIGKILL');
    await pollUntil(async () => (restarts.length === 1 ? true : undefined), {
      what: 'a restart',
      timeoutMs: 5_000,
    });
    expect(isAlive(Number(grandchild))).toBe(false);
    expect(group.has('sleeper')).toBe(true);
    expect(group.pidOf('sleeper')).not.toBe(first);
    expect(group.restarts()).toEqual({ sleeper: 1 });
    expect(exits).toMatchObject([{ name: 'sleeper', signal: 'SIGKILL', expected: false }]);
    expect(logged).toEqual(['shop: sleeper exited (signal SIGKILL); restart 1 in 0.1 s']);

    group.crash('sleeper');
    await pollUntil(async () => (restarts.length === 2 ? true : undefined), {
      what: 'a second restart',
      timeoutMs: 5_000,
    });
    expect(logged[1]).toContain('restart 2 in 0.1 s');
    await group.stopInStages([['sleeper']]);
    expect(exits.at(-1)).toMatchObject({ name: 'sleeper', expected: true });
    expect(group.restarts()).toEqual({ sleeper: 2 });
    expect(() => group.crash('sleeper')).toThrow(/not running/);
  });

  it('gives up on a child that keeps dying, with its last lines', async () => {
    const group = quietGroup();
    const loop = new Promise<CrashLoop>((resolve) =>
      group.heal({
        policy: { ...quickPolicy, crashLoopLimit: 3 },
        onCrashLoop: resolve,
        log: () => {},
      }),
    );
    group.start({
      name: 'broken',
      command: 'sh',
      args: ['-c', 'echo "cannot open the data folder" >&2; exit 3'],
      cwd: '/',
      env: {},
    });
    const { name, exit, quickExits, lastLines } = await loop;
    expect({ name, code: exit.code, quickExits }).toEqual({
      name: 'broken',
      code: 3,
      quickExits: 3,
    });
    expect(lastLines).toContain('cannot open the data folder');
    expect(group.restarts()).toEqual({ broken: 2 });
    expect(group.has('broken')).toBe(false);
  });

  it('restarts nothing once a stop in order has begun', async () => {
    const group = quietGroup();
    group.heal({
      policy: { ...quickPolicy, initialDelayMs: 300 },
      onCrashLoop: () => {},
      log: () => {},
    });
    group.start({ name: 'sleeper', ...forever });
    group.crash('sleeper');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await group.stopInStages([['sleeper']]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(group.has('sleeper')).toBe(false);
    expect(group.restarts()).toEqual({});
  });
});
