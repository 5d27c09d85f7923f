import { homedir } from 'node:os';
import { join } from 'node:path';
import { type GoTool, resolveGoTool } from './go-tool.ts';

const buildinfo = 'github.com/dapr/dapr/pkg/buildinfo';

const daprdTool: GoTool = {
  name: 'daprd',
  wrapperDir: 'tools/daprd',
  module: 'github.com/dapr/dapr',
  mainPackage: 'github.com/dapr/dapr/cmd/daprd',
  // Every component, so a broker or store is swapped by YAML alone.
  buildTags: ['allcomponents'],
  ldflags: (version) =>
    `-s -w -X ${buildinfo}.version=${version} -X ${buildinfo}.gitversion=v${version}`,
  versionArgs: ['--version'],
  pathVariable: 'DAPRD_PATH',
  // Where `dapr init --slim` puts it.
  knownLocations: [join(homedir(), '.dapr', 'bin', 'daprd')],
  installHint: (version) =>
    `daprd ${version} was not found and Go is not installed to build it. Either install Go 1.26 or newer ` +
    `and run \`npm run setup\` again, or install the Dapr CLI and run \`dapr init --slim --runtime-version ${version}\`.`,
};

/** A daprd of the pinned version, built and cached on first use. */
export const resolveDaprd = (repoRoot: string) => resolveGoTool(repoRoot, daprdTool);
