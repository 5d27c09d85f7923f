import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '../process/poll.ts';
import { httpAnswersOk } from '../process/probes.ts';
import type { ProcessGroup } from '../process/processes.ts';
import { type GoTool, resolveGoTool } from '../toolchain/go-tool.ts';

const mailpitModule = 'github.com/axllent/mailpit';

export const mailpitTool: GoTool = {
  name: 'mailpit',
  wrapperDir: 'tools/mailpit',
  module: mailpitModule,
  mainPackage: mailpitModule,
  // Unstamped, a source build reports itself as `dev`.
  ldflags: (version) => `-s -w -X ${mailpitModule}/config.Version=v${version}`,
  // Its SQLite is pure Go (modernc.org/sqlite).
  buildEnv: { CGO_ENABLED: '0' },
  // Without --no-release-check `version` asks GitHub for the latest release, and fails offline.
  versionArgs: ['version', '--no-release-check'],
  // It prints `<path> v<version> compiled with go1.x on linux/amd64`.
  versionFrom: (output) => /^\S+ v?(\S+) compiled with/m.exec(output)?.[1],
  pathVariable: 'MAILPIT_PATH',
};

/** A mailpit of the pinned version, built and cached on first use. */
export const resolveMailpit = (repoRoot: string) => resolveGoTool(repoRoot, mailpitTool);

export type MailpitHandle = {
  /** Where the shop's SMTP binding delivers, e.g. `127.0.0.1` and `41234`. */
  smtpHost: string;
  smtpPort: number;
  /** Its HTTP API (`/api/v1/messages`, `/api/v1/search?query=to:ada@example.com`). */
  apiUrl: string;
};

/** The group's process name of the shop's mail server. */
export const mailpitProcessName = 'mailpit';

/**
 * A private mailpit (an SMTP server that keeps every mail it receives and shows them over
 * HTTP) on free loopback ports, its database under `<dataDir>/mailpit`, never asking the
 * internet for a newer release; resolves once its API answers.
 *
 * The web UI's assets are built by npm in mailpit's own repository and are not part of its
 * Go module, so a source build serves the API only.
 */
export async function startMailpit(
  group: ProcessGroup,
  options: { repoRoot: string; dataDir: string; smtpPort: number; httpPort: number },
): Promise<MailpitHandle> {
  const binary = resolveMailpit(options.repoRoot);
  const dir = join(options.dataDir, 'mailpit');
  mkdirSync(dir, { recursive: true });
  group.start({
    name: mailpitProcessName,
    command: binary,
    args: [
      '--smtp',
      `127.0.0.1:${options.smtpPort}`,
      '--listen',
      `127.0.0.1:${options.httpPort}`,
      '--database',
      join(dir, 'mailpit.db'),
      '--disable-version-check',
      // The shop's binding sends without credentials and without STARTTLS on loopback.
      '--smtp-auth-accept-any',
      '--smtp-auth-allow-insecure',
      '--quiet',
    ],
    cwd: dir,
    env: { PATH: process.env.PATH },
  });
  const apiUrl = `http://127.0.0.1:${options.httpPort}`;
  await pollUntil(
    async () => ((await httpAnswersOk(`${apiUrl}/api/v1/messages?limit=1`)) ? true : undefined),
    {
      what: `mailpit to answer on ${apiUrl}`,
      timeoutMs: 15_000,
      intervalMs: 50,
      giveUpIf: () =>
        group.has(mailpitProcessName) ? undefined : 'mailpit exited during start (see its log)',
    },
  );
  return { smtpHost: '127.0.0.1', smtpPort: options.smtpPort, apiUrl };
}
