import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
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

type Child = {
  spec: ChildSpec;
  process: ChildProcess;
  exited: Promise<ExitInfo>;
  expected: boolean;
};

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
      exited: new Promise((resolve) => {
        child.once('error', (error) => {
          this.#output(spec.name, `failed to start: ${error.message}`);
          resolve({ name: spec.name, code: -1, signal: null });
        });
        child.once('exit', (code, signal) => resolve({ name: spec.name, code, signal }));
      }),
    };
    this.#children.set(spec.name, entry);
    void entry.exited.then((exit) => {
      this.#children.delete(spec.name);
      if (!entry.expected) this.#onUnexpectedExit(exit);
    });
    if (child.pid === undefined) throw new Error(`${spec.name} did not start`);
    return child.pid;
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
    for (const child of this.#children.values()) {
      child.expected = true;
      signalGroup(child, 'SIGKILL');
    }
  }
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
