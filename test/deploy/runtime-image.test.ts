import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import dockerignoreModule from '@balena/dockerignore';
import { findRepoRoot } from '@shop/devkit/process';
import { describe, expect, it } from 'vitest';

// What a service's image holds, worked out the way `docker build` would: the folders the
// Dockerfile copies from the build context, less what .dockerignore leaves out. No Docker
// engine runs here, so the test reads both files instead of building.
const root = findRepoRoot();
// The package's types declare an ES default export; at run time the CommonJS module is the factory.
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;
const ignored = dockerignore().add(readFileSync(join(root, '.dockerignore'), 'utf8'));
const services = readdirSync(join(root, 'services'));

/** Sources the Dockerfile copies from the context (not from another stage), per service. */
function copiedFolders(service: string): string[] {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  return [...dockerfile.matchAll(/^COPY (?!--from)(\S+) \S+$/gm)]
    .map((match) => (match[1] as string).replace('$' + '{SERVICE}', service))
    .filter((source) => !source.endsWith('package.json') && !source.endsWith('.json'));
}

function filesIn(folder: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir)).flatMap((name) => {
      const path = join(dir, name);
      if (ignored.ignores(path)) return [];
      return statSync(join(root, path)).isDirectory() ? walk(path) : [path];
    });
  return ignored.ignores(folder) ? [] : walk(folder);
}

function imageFiles(service: string): string[] {
  return copiedFolders(service).flatMap(filesIn);
}

const packageName = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];

function importsOf(file: string): string[] {
  const source = readFileSync(join(root, file), 'utf8');
  return [...source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)]
    .concat([...source.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)])
    .map((match) => match[1] as string)
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:'));
}

function runtimeDependencies(folder: string): string[] {
  const manifest = JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8'));
  return Object.keys(manifest.dependencies ?? {});
}

describe.each(services)('the %s image', (service) => {
  const files = imageFiles(service);

  it('copies the platform and the service, nothing of the devkit', () => {
    expect(copiedFolders(service)).toEqual(['packages/platform', `services/${service}`]);
    expect(files.some((file) => file.startsWith(`services/${service}/src/`))).toBe(true);
    expect(files.filter((file) => file.startsWith('packages/devkit'))).toEqual([]);
  });

  it('holds no test, test helper or test data', () => {
    const testFiles = files.filter((file) =>
      /\.test\.ts$|(^|\/)test-support\.ts$|(^|\/)testdata\//.test(file),
    );
    expect(testFiles).toEqual([]);
  });

  it('imports only what its package declares as a runtime dependency', () => {
    const undeclared = files
      .filter((file) => file.endsWith('.ts'))
      .flatMap((file) => {
        const folder = file.startsWith('packages/platform')
          ? 'packages/platform'
          : `services/${service}`;
        const allowed = new Set([...runtimeDependencies(folder), ...builtinModules]);
        return importsOf(file)
          .filter((specifier) => !allowed.has(packageName(specifier) as string))
          .map((specifier) => `${relative(root, join(root, file))} imports ${specifier}`);
      });
    expect(undeclared).toEqual([]);
  });

  it('installs no devkit and no test runner with its production dependencies', () => {
    for (const folder of ['packages/platform', `services/${service}`]) {
      expect(runtimeDependencies(folder)).not.toContain('@shop/devkit');
      expect(runtimeDependencies(folder)).not.toContain('vitest');
    }
  });
});
