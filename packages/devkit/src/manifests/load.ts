import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ServiceManifest, serviceManifest } from './schema.ts';

export const manifestFile = 'service.json';

/** The folders under services/ that hold a manifest, by name. */
export function manifestFolders(repoRoot: string): string[] {
  const servicesDir = join(repoRoot, 'services');
  return readdirSync(servicesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .filter((name) => existsSync(join(servicesDir, name, manifestFile)))
    .sort();
}

/** One manifest, parsed and validated; the error names the file and each problem. */
export function parseManifest(text: string, where: string): ServiceManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: not JSON (${(error as Error).message})`);
  }
  const result = serviceManifest.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map(
      (i) => `${i.path.join('.') || '(root)'}: ${i.message}`,
    );
    throw new Error(`${where}: ${problems.join('; ')}`);
  }
  return result.data;
}

/**
 * Every service's manifest, the exposed one (the gateway) first and then by app port
 * (3101, 3102, ...): the order the generated files list them in.
 */
export function loadManifests(repoRoot: string): ServiceManifest[] {
  const manifests = manifestFolders(repoRoot).map((folder) => {
    const where = `services/${folder}/${manifestFile}`;
    const manifest = parseManifest(readFileSync(join(repoRoot, where), 'utf8'), where);
    if (manifest.appId !== folder) {
      throw new Error(`${where}: appId ${manifest.appId} must be the folder's name, ${folder}`);
    }
    return manifest;
  });
  return manifests.sort(
    (a, b) =>
      Number(b.exposed) - Number(a.exposed) ||
      a.ports.app - b.ports.app ||
      a.appId.localeCompare(b.appId),
  );
}
