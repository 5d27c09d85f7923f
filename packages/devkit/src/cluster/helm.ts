// Finds or builds the pinned helm, the same way the supervisor does daprd: these machines
// have no helm and no internet, only the Go module proxy. scripts/helm.ts runs it as helm.
import { type GoTool, resolveGoTool } from '../toolchain/go-tool.ts';

const helmModule = 'helm.sh/helm/v4';
const versionPackage = `${helmModule}/internal/version`;

export const helmTool: GoTool = {
  name: 'helm',
  wrapperDir: 'tools/helm',
  module: helmModule,
  mainPackage: `${helmModule}/cmd/helm`,
  // Without these, `helm version` would report only the major.minor baked into the source.
  ldflags: (version) =>
    `-s -w -X ${versionPackage}.version=v${version} -X ${versionPackage}.gitTreeState=clean`,
  // Helm's own release builds are static; CGO adds nothing it uses.
  buildEnv: { CGO_ENABLED: '0' },
  versionArgs: ['version', '--template', '{{.Version}}'],
  pathVariable: 'HELM_PATH',
};

/** A helm of the pinned version, built and cached on first use. */
export const resolveHelm = (repoRoot: string) => resolveGoTool(repoRoot, helmTool);
