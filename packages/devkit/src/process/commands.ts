import { spawn } from 'node:child_process';

export type CommandResult = {
  status: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
};

/**
 * Runs a program without blocking the event loop. A test that starts the cluster must not
 * use spawnSync for kubectl or helm: the event loop is what drains etcd's and
 * kube-apiserver's output pipes, and a server whose pipe is full stops answering.
 */
export function runCommand(
  command: string,
  args: string[],
  options: {
    input?: string;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    /** Killed (SIGKILL) after this long; 60 s unless given, 0 for no limit. */
    timeoutMs?: number;
    /** Shows the output line by line as it comes. */
    log?: ((line: string) => void) | undefined;
  } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const show = (chunk: string) => {
      if (options.log) for (const line of chunk.split('\n')) if (line.trim()) options.log(line);
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      show(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      show(chunk);
    });
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, timeoutMs)
        : undefined;
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ status: -1, stdout, stderr: `${stderr}${error.message}`, timedOut });
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, timedOut });
    });
    // A program that exits without reading all of its input closes the pipe early.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/**
 * runCommand for a step that must succeed: resolves with its stdout, rejects naming the
 * command and how it ended, with the last of its output. No time limit unless given.
 */
export async function runProgram(
  command: string,
  args: string[],
  options: Omit<Parameters<typeof runCommand>[2] & object, 'input'> = {},
): Promise<string> {
  const result = await runCommand(command, args, { ...options, timeoutMs: options.timeoutMs ?? 0 });
  if (result.status === 0) return result.stdout;
  const how = result.timedOut ? 'was killed (timed out)' : `exited with ${result.status}`;
  const tail = `${result.stdout}${result.stderr}`.slice(-6_000);
  throw new Error(`${command} ${args.join(' ')} ${how}\n${tail}`);
}
