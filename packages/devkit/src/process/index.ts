export { type CommandResult, runCommand, runProgram } from './commands.ts';
export { type PollOptions, pollUntil } from './poll.ts';
export { freePorts } from './ports.ts';
export {
  holdsWithin,
  httpAnswersOk,
  isRunning,
  listeningAddresses,
  portAnswers,
  probeWhileAlive,
} from './probes.ts';
export {
  type CrashLoop,
  type ExitEvent,
  type ExitInfo,
  type HealingOptions,
  ProcessGroup,
  type RestartEvent,
} from './processes.ts';
export { findRepoRoot } from './repo-root.ts';
export {
  backoffDelay,
  decideRestart,
  defaultRestartPolicy,
  type RestartPolicy,
} from './restart-policy.ts';
export { ensureDebianProgram, findExecutables } from './system.ts';
