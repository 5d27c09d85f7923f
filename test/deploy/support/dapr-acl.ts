// Dapr's own access-control code, built from the pinned module, deciding calls.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutables } from '@shop/devkit/process';
import { atLowPriority, buildIntoCache, shopCachePath } from '@shop/devkit/toolchain';
import { type K8sObject, named, ofKind, repoRoot } from './chart.ts';
import { namespace } from './hardening.ts';
import type { Workload } from './workloads.ts';

/**
 * The decision code of the pinned Dapr (pkg/acl/acl.go of github.com/dapr/dapr, the
 * version tools/daprd/go.mod pins) behind a small main: it reads
 * [{ spec, calls: [{ trustDomain, namespace, appId, verb, path }] }] as JSON and prints
 * whether each call is allowed. acl.go is copied unchanged but for its package name, with
 * one exported function added that calls its unexported decision for a caller's SPIFFE
 * id (the part that a real mTLS handshake would supply). Built once, cached like the
 * other Go tools, keyed by the Dapr version and this source.
 */
const evaluatorMain = `package main

import (
	"encoding/json"
	"os"

	"shop.local/dapr-acl/dacl"
	"github.com/dapr/dapr/pkg/config"
	commonv1pb "github.com/dapr/dapr/pkg/proto/common/v1"
	"github.com/dapr/dapr/pkg/security/spiffe"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

type call struct {
	TrustDomain string \`json:"trustDomain"\`
	Namespace   string \`json:"namespace"\`
	AppID       string \`json:"appId"\`
	Verb        string \`json:"verb"\`
	Path        string \`json:"path"\`
}

type batch struct {
	Spec  config.AccessControlSpec \`json:"spec"\`
	Calls []call                   \`json:"calls"\`
}

func main() {
	var batches []batch
	if err := json.NewDecoder(os.Stdin).Decode(&batches); err != nil {
		panic(err)
	}
	answers := [][]bool{}
	for _, b := range batches {
		list, err := dacl.ParseAccessControlSpec(&b.Spec, true)
		if err != nil {
			panic(err)
		}
		allowed := []bool{}
		for _, c := range b.Calls {
			id, err := spiffe.FromStrings(spiffeid.RequireTrustDomainFromString(c.TrustDomain), c.Namespace, c.AppID)
			if err != nil {
				panic(err)
			}
			verb := commonv1pb.HTTPExtension_Verb(commonv1pb.HTTPExtension_Verb_value[c.Verb])
			allowed = append(allowed, dacl.Decide(id, c.Path, verb, list))
		}
		answers = append(answers, allowed)
	}
	if err := json.NewEncoder(os.Stdout).Encode(answers); err != nil {
		panic(err)
	}
}
`;
const evaluatorDecide = `
// Decide is the decision for an app's HTTP invocation, given the caller's SPIFFE id.
func Decide(id *spiffe.Parsed, operation string, verb commonv1pb.HTTPExtension_Verb, list *config.AccessControlList) bool {
	allowed, _ := isOperationAllowedByAccessControlPolicy(id, operation, verb, true, list)
	return allowed
}
`;

function buildDaprAclEvaluator(): string {
  const goMod = readFileSync(join(repoRoot, 'tools/daprd/go.mod'), 'utf8');
  const version = /^\s*github\.com\/dapr\/dapr v(\S+)/m.exec(goMod)?.[1];
  if (!version) throw new Error('tools/daprd/go.mod does not pin github.com/dapr/dapr');
  const key = createHash('sha256')
    .update(goMod + evaluatorMain + evaluatorDecide)
    .digest('hex')
    .slice(0, 12);
  const binary = shopCachePath('dapr-acl', `${version}-${key}`, 'dapr-acl');
  if (existsSync(binary)) return binary;
  const go = findExecutables('go', ['/usr/local/go/bin'])[0];
  if (!go) {
    throw new Error(
      "checking the access-control lists with Dapr's own code needs Go (1.26+) to build it; install Go",
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'shop-dapr-acl-'));
  try {
    // The daprd wrapper's requirements and replace lines, so it builds against the very
    // dependency versions daprd does.
    writeFileSync(join(dir, 'go.mod'), goMod.replace(/^module .*$/m, 'module shop.local/dapr-acl'));
    writeFileSync(join(dir, 'go.sum'), readFileSync(join(repoRoot, 'tools/daprd/go.sum')));
    const env = { ...process.env, GOFLAGS: '-mod=mod -buildvcs=false' };
    const listed = spawnSync(go, ['list', '-m', '-f', '{{.Dir}}', 'github.com/dapr/dapr'], {
      cwd: dir,
      env,
      encoding: 'utf8',
    });
    if (listed.status !== 0)
      throw new Error(`go list github.com/dapr/dapr failed:\n${listed.stderr}`);
    const acl = readFileSync(join(listed.stdout.trim(), 'pkg/acl/acl.go'), 'utf8');
    mkdirSync(join(dir, 'dacl'));
    writeFileSync(
      join(dir, 'dacl/acl.go'),
      acl.replace(/^package acl$/m, 'package dacl') + evaluatorDecide,
    );
    writeFileSync(join(dir, 'main.go'), evaluatorMain);
    return buildIntoCache({
      what: `Dapr ${version}'s access-control check`,
      target: binary,
      complete: existsSync,
      build(partial) {
        const [command, args] = atLowPriority(go, ['build', '-trimpath', '-o', partial, '.']);
        const built = spawnSync(command, args, { cwd: dir, env, encoding: 'utf8' });
        if (built.status !== 0)
          throw new Error(`building the access-control check failed:\n${built.stderr}`);
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type DaprCall = {
  trustDomain: string;
  namespace: string;
  appId: string;
  verb: string;
  path: string;
};

let daprAcl: string | undefined;

/** Finds (or, on a fresh machine, builds) Dapr's access-control check; call it from a beforeAll. */
export function prepareDaprAcl(): string {
  daprAcl ??= buildDaprAclEvaluator();
  return daprAcl;
}

/** Dapr's decisions, per batch and call. */
export function daprDecides(batches: { spec: unknown; calls: DaprCall[] }[]): boolean[][] {
  const result = spawnSync(prepareDaprAcl(), [], {
    input: JSON.stringify(batches),
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.status !== 0) throw new Error(`the access-control check failed:\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** The access-control spec of each app's rendered Configuration, by app id. */
export function aclSpecs(objects: K8sObject[]): Map<string, unknown> {
  const specs = new Map<string, unknown>();
  for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
    const config = deployment.spec.template.metadata.annotations?.['dapr.io/config'] as string;
    specs.set(
      deployment.metadata.name,
      named(ofKind(objects, 'Configuration'), config).spec.accessControl,
    );
  }
  return specs;
}

export const call = (
  caller: string,
  verb: string,
  path: string,
  ns = namespace,
  td = 'public',
): DaprCall => ({
  trustDomain: td,
  namespace: ns,
  appId: caller,
  verb,
  path,
});
