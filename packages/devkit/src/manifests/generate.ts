import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventCatalog } from '@shop/platform';
import { chartValuesFile, chartValuesYaml } from './chart.ts';
import { manifestProblems } from './check.ts';
import { daprRunFile, daprRunYaml } from './dapr-yaml.ts';
import { loadManifests } from './load.ts';
import { manifestScopes, renderPubsubFiles } from './pubsub-scopes.ts';
import { resiliencyFile, resiliencyYaml } from './resiliency.ts';
import { manifestJsonSchema } from './schema.ts';
import { declaredConsumers, subscriptionsFile, subscriptionsYaml } from './subscriptions.ts';
import { upstreamsFile, upstreamsModule } from './upstreams.ts';

export const schemaFile = 'packages/devkit/src/manifests/service.schema.json';

function read(repoRoot: string, path: string): string {
  return readFileSync(join(repoRoot, path), 'utf8');
}

/**
 * Every file the manifests decide, as it should read: path (from the repository root) ->
 * text. Throws, naming each problem, when the manifests disagree with each other or with
 * the code.
 */
export async function renderAll(repoRoot: string): Promise<Map<string, string>> {
  const manifests = loadManifests(repoRoot);
  const problems = manifestProblems(manifests, {
    catalog: eventCatalog,
    consumers: await declaredConsumers(repoRoot),
  });
  if (problems.length > 0) throw new Error(`services/*/service.json:\n  ${problems.join('\n  ')}`);
  const consumers = new Map(manifests.map((m) => [m.appId, m.subscribes]));
  const subscribing = new Map([...consumers].filter(([, types]) => types.length > 0));
  return new Map([
    [schemaFile, manifestJsonSchema()],
    [daprRunFile, daprRunYaml(manifests)],
    [upstreamsFile, upstreamsModule(manifests)],
    [subscriptionsFile, subscriptionsYaml(subscribing)],
    ...(await renderPubsubFiles(repoRoot, manifestScopes(manifests))),
    [resiliencyFile, resiliencyYaml(read(repoRoot, resiliencyFile), manifests)],
    [chartValuesFile, chartValuesYaml(read(repoRoot, chartValuesFile), manifests)],
  ]);
}

/** The generated files whose text on disk differs from what the manifests make. */
export function driftedFiles(repoRoot: string, generated: ReadonlyMap<string, string>): string[] {
  return [...generated]
    .filter(([path, text]) => {
      const full = join(repoRoot, path);
      return !existsSync(full) || readFileSync(full, 'utf8') !== text;
    })
    .map(([path]) => path);
}

/** Writes the files that differ; returns their paths. */
export function writeGenerated(repoRoot: string, generated: ReadonlyMap<string, string>): string[] {
  const drifted = driftedFiles(repoRoot, generated);
  for (const path of drifted) writeFileSync(join(repoRoot, path), generated.get(path) as string);
  return drifted;
}
