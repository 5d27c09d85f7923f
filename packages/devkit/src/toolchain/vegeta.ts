import { type GoTool, resolveGoTool } from './go-tool.ts';

const vegetaModule = 'github.com/tsenart/vegeta/v12';

/**
 * vegeta, an HTTP load generator that sends at a constant arrival rate (open model: a
 * request leaves on schedule whether or not the previous ones were answered), for the
 * checkout bench. Only ever aimed at loopback.
 */
export const vegetaTool: GoTool = {
  name: 'vegeta',
  wrapperDir: 'tools/vegeta',
  module: vegetaModule,
  mainPackage: vegetaModule,
  // Unstamped, a source build reports `Version: ` with nothing after it.
  ldflags: (version) => `-s -w -X main.Version=v${version}`,
  buildEnv: { CGO_ENABLED: '0' },
  versionArgs: ['-version'],
  // It prints `Version: v<version>`, then its commit, runtime and date.
  versionFrom: (output) => /^Version: (\S+)$/m.exec(output)?.[1],
  pathVariable: 'VEGETA_PATH',
};

/** A vegeta of the pinned version, built and cached on first use. */
export const resolveVegeta = (repoRoot: string) => resolveGoTool(repoRoot, vegetaTool);
