import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  decideRestart,
  defaultRestartPolicy,
  type RestartHistory,
  type RestartPolicy,
} from './restart-policy.ts';
import { findExecutables } from './system.ts';

export type ChildSpec = {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Runs the child as this account (PostgreSQL refuses to run as root). */
  account?: { uid: number; gid: number };
  /** The signal that stops it gracefully, when SIGTERM is not (PostgreSQL: SIGINT). */
  stopSignal?: NodeJS.Signals;
};

export type OutputSink = (name: string, line: string) => void;

export type ExitInfo = { name: string; code: number | null; signal: NodeJS.Signals | null };

/** An exit as listeners hear it: when, and whether someone had asked for it (stop). */
export type ExitEvent = ExitInfo & { at: number; expected: boolean };
/** A child started again by healing, at the moment of its spawn. */
export type RestartEvent = { name: string; at: number };
/** Why healing gave up on a child. */
export type CrashLoop = { name: string; exit: ExitInfo; quickExits: number; lastLines: string[] };

export type HealingOptions = {
  /** Numbers of the restart policy (defaultRestartPolicy for the rest). */
  policy?: Partial<RestartPolicy>;
  /** Called once a child has crash-looped; it is not restarted again. */
  onCrashLoop: (loop: CrashLoop) => void;
  /** Where each restart is announced; stderr unless given. */
  log?: (line: string) => void;
};

type Child = {
  spec: ChildSpec;
  process: ChildProcess;
  exited: Promise<ExitInfo>;
  expected: boolean;
  startedAt: number;
};

type Healing = Required<Omit<HealingOptions, 'policy'>> & { policy: RestartPolicy };

// setpriv (util-linux) arranges for the kernel to kill each child if the supervisor dies
// without cleaning up (SIGKILL, OOM), so not even a hard kill leaves a child behind; what a
// child starts itself (PostgreSQL's workers) watches its parent.
const setpriv = process.platform === 'linux' ? findExecutables('setpriv')[0] : undefined;

/**
 * Children started as their own process groups, so a stop reaches their children too;
 * their output arrives line by line, tagged with the child's name.
 */
export class ProcessGroup {
  readonly #children = new Map<string, Child>();
  readonly #specs = new Map<string, ChildSpec>();
  readonly #output: OutputSink;
  /** Each child's last lines, for the error when it dies while starting. */
  readonly #recent = new Map<string, string[]>();
  readonly #onUnexpectedExit: (exit: ExitInfo) => void;
  #healing: Healing | undefined;
  readonly #histories = new Map<string, RestartHistory>();
  /** Restarts waiting out their backoff, by child name. */
  readonly #pending = new Map<string, NodeJS.Timeout>();
  readonly #restarts = new Map<string, number>();
  readonly #exitListeners: Array<(exit: ExitEvent) => void> = [];
  readonly #restartListeners: Array<(event: RestartEvent) => void> = [];

  constructor(options: { output: OutputSink; onUnexpectedExit: (exit: ExitInfo) => void }) {
    this.#output = options.output;
    this.#onUnexpectedExit = options.onUnexpectedExit;
    process.once('exit', () => this.killAllNow());
  }

  start(spec: ChildSpec): number {
    if (this.#children.has(spec.name)) throw new Error(`${spec.name} is already running`);
    if (process.platform === 'linux' && !setpriv) {
      throw new Error('setpriv is missing: install Debian\'s package "util-linux"');
    }
    this.#specs.set(spec.name, spec);
    const [command, args] = setpriv
      ? [setpriv, ['--pdeathsig', 'SIGKILL', '--', spec.command, ...spec.args]]
      : [spec.command, spec.args];
    const child = spawn(command, args, {
      cwd: spec.cwd,
      env: spec.env,
      // setpriv runs after the switch, so the death signal it sets survives it.
      ...(spec.account ?? {}),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.#remember(spec.name, line);
        this.#output(spec.name, line);
      });
    }
    const entry: Child = {
      spec,
      process: child,
      expected: false,
      startedAt: Date.now(),
      exited: new Promise((resolve) => {
        child.once('error', (error) => {
          this.#output(spec.name, `failed to start: ${error.message}`);
          resolve({ name: spec.name, code: -1, signal: null });
        });
        child.once('exit', (code, signal) => resolve({ name: spec.name, code, signal }));
      }),
    };
    this.#children.set(spec.name, entry);
    void entry.exited.then((exit) => this.#exited(entry, exit));
    if (child.pid === undefined) throw new Error(`${spec.name} did not start`);
    return child.pid;
  }

  #exited(entry: Child, exit: ExitInfo): void {
    this.#children.delete(entry.spec.name);
    const event = { ...exit, at: Date.now(), expected: entry.expected };
    for (const listener of this.#exitListeners) listener(event);
    if (entry.expected) return;
    if (this.#healing) this.#scheduleRestart(this.#healing, entry, event);
    else this.#onUnexpectedExit(exit);
  }

  /**
   * From now on a child that exits unexpectedly is started again from its spec after a
   * backoff (restart-policy.ts), until it crash-loops. Before, and without it, an
   * unexpected exit goes to onUnexpectedExit.
   */
  heal(options: HealingOptions): void {
    this.#healing = {
      policy: { ...defaultRestartPolicy, ...options.policy },
      onCrashLoop: options.onCrashLoop,
      log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
    };
  }

  #scheduleRestart(healing: Healing, entry: Child, exit: ExitEvent): void {
    const { name } = entry.spec;
    // What the child left behind (PostgreSQL's backends hold its shared memory, and a new
    // postmaster refuses to start while they live) goes before it comes back.
    signalGroup(entry, 'SIGKILL');
    const history = this.#histories.get(name) ?? { quickExits: 0 };
    const next = decideRestart(healing.policy, history, exit.at - entry.startedAt);
    this.#histories.set(name, next.history);
    const { decision } = next;
    if (decision.action === 'give-up') {
      const lastLines = this.recentOutput(name);
      healing.onCrashLoop({ name, exit, quickExits: decision.quickExits, lastLines });
      return;
    }
    const seconds = (decision.delayMs / 1000).toFixed(1);
    healing.log(
      `shop: ${name} exited (${describeExit(exit)}); restart ${decision.attempt} in ${seconds} s`,
    );
    const timer = setTimeout(() => void this.#respawn(entry), decision.delayMs);
    this.#pending.set(name, timer);
  }

  async #respawn(entry: Child): Promise<void> {
    const { name } = entry.spec;
    const pid = entry.process.pid;
    // SIGKILL is not instant: the old group's last members may take a moment to go.
    for (let waited = 0; pid !== undefined && groupHasLiveMembers(pid) && waited < 5_000; ) {
      await sleep(100);
      waited += 100;
    }
    if (this.#pending.get(name) === undefined || !this.#healing || this.#children.has(name)) return;
    this.#pending.delete(name);
    this.#restarts.set(name, (this.#restarts.get(name) ?? 0) + 1);
    try {
      this.start(entry.spec);
    } catch {
      // A spawn that failed reports itself as an exit (code -1), which heals again.
    }
    const event = { name, at: Date.now() };
    for (const listener of this.#restartListeners) listener(event);
  }

  /** Kills the child's whole process group with SIGKILL, as an outside fault would. */
  crash(name: string): void {
    const child = this.#children.get(name);
    if (!child) throw new Error(`${name} is not running`);
    signalGroup(child, 'SIGKILL');
  }

  /** How often healing has started each child again, by name. */
  restarts(): Record<string, number> {
    return Object.fromEntries(this.#restarts);
  }

  /** Calls `listener` at each exit, expected or not. */
  onExit(listener: (exit: ExitEvent) => void): void {
    this.#exitListeners.push(listener);
  }

  /** Calls `listener` each time healing has spawned a child again. */
  onRestart(listener: (event: RestartEvent) => void): void {
    this.#restartListeners.push(listener);
  }

  #cancelRestart(name: string): void {
    clearTimeout(this.#pending.get(name));
    this.#pending.delete(name);
  }

  /** Starts a stopped child again exactly as it was first started (fault tests). */
  restart(name: string): number {
    const spec = this.#specs.get(name);
    if (!spec) throw new Error(`${name} was never started`);
    return this.start(spec);
  }

  /** The last lines (at most 20) `name` wrote, newest last. */
  recentOutput(name: string): string[] {
    return [...(this.#recent.get(name) ?? [])];
  }

  #remember(name: string, line: string): void {
    const lines = this.#recent.get(name) ?? [];
    lines.push(line);
    if (lines.length > 20) lines.shift();
    this.#recent.set(name, lines);
  }

  has(name: string): boolean {
    return this.#children.has(name);
  }

  /** Resolves when the child exits; rejects at once if it is not running. */
  exited(name: string): Promise<ExitInfo> {
    const child = this.#children.get(name);
    if (!child) return Promise.reject(new Error(`${name} is not running`));
    return child.exited;
  }

  /** Stops one child and its descendants: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(
    name: string,
    options: { signal?: NodeJS.Signals; graceMs?: number } = {},
  ): Promise<void> {
    this.#cancelRestart(name);
    const child = this.#children.get(name);
    if (!child) return;
    child.expected = true;
    signalGroup(child, options.signal ?? child.spec.stopSignal ?? 'SIGTERM');
    // Longer than a service's own SHUTDOWN_TIMEOUT_MS (10 s), so it can finish by itself.
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), options.graceMs ?? 12_000);
    await child.exited;
    clearTimeout(timer);
    // Whatever the child left in its group goes with it.
    signalGroup(child, 'SIGKILL');
  }

  /** Stops the named children in stages: each stage only after the previous one is gone. */
  async stopInStages(stages: string[][], graceMs?: number): Promise<void> {
    this.#stopHealing();
    for (const stage of stages) {
      await Promise.all(stage.map((name) => this.stop(name, { graceMs })));
    }
    await Promise.all([...this.#children.keys()].map((name) => this.stop(name, { graceMs })));
  }

  names(): string[] {
    return [...this.#children.keys()];
  }

  /** The running child's process id (setpriv execs the command, so it is the command's). */
  pidOf(name: string): number | undefined {
    return this.#children.get(name)?.process.pid;
  }

  /** Last resort when the supervisor itself is exiting: nothing may outlive it. */
  killAllNow(): void {
    this.#stopHealing();
    for (const child of this.#children.values()) {
      child.expected = true;
      signalGroup(child, 'SIGKILL');
    }
  }

  /** A stop in order is no fault: nothing is restarted once it has begun. */
  #stopHealing(): void {
    this.#healing = undefined;
    for (const name of [...this.#pending.keys()]) this.#cancelRestart(name);
  }
}

function describeExit(exit: ExitInfo): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

/** Whether any process of group `pgid` still runs (zombies hold nothing and do not count). */
function groupHasLiveMembers(pgid: number): boolean {
  if (process.platform !== 'linux') return false;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After the command's closing parenthesis: state, ppid, pgrp.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z' && Number(pgrp) === pgid) return true;
    } catch {
      // exited while we looked
    }
  }
  return false;
}

function signalGroup(child: Child, signal: NodeJS.Signals): void {
  const pid = child.process.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}
