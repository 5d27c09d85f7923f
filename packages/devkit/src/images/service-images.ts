// The runtime image of every service, built from the repository's Dockerfile with buildah
// (no Docker engine). Each image carries a label with a hash of its inputs (the Dockerfile,
// .dockerignore, the files it copies, the base image), so an image that is already current
// is kept rather than rebuilt.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import dockerignoreModule from '@balena/dockerignore';
import { parse } from 'yaml';
import { runProgram } from '../process/commands.ts';
import { findRepoRoot } from '../process/repo-root.ts';
import {
  type BaseImage,
  ensureBaseImage,
  ensureBuildah,
  externalBaseImages,
  imageSize,
  inspectImage,
  type Log,
} from './base-image.ts';

// The package's types declare an ES default export; at run time the CommonJS module is the factory.
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

export const imageTagSuffix = 'dev';
export const sourcesHashLabel = 'shop.sources-hash';
const target = 'runtime';

export function imageName(root: string, service: string): string {
  const values = parse(readFileSync(join(root, 'charts/shop/values.yaml'), 'utf8')) as {
    image: { registry: string };
  };
  return `${values.image.registry}/${service}:${imageTagSuffix}`;
}

/** The services the Dockerfile can build: every folder of services/ with a package.json. */
export function imageServices(root: string): string[] {
  return readdirSync(join(root, 'services'))
    .filter((name) => {
      try {
        return statSync(join(root, 'services', name, 'package.json')).isFile();
      } catch {
        return false;
      }
    })
    .sort();
}

/** The Node version the repository pins (root package.json), which the stand-in base carries. */
function pinnedNodeVersion(root: string): string {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    devDependencies?: Record<string, string>;
  };
  const version = manifest.devDependencies?.node;
  if (!version || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error('the root package.json must pin an exact "node" devDependency');
  }
  return version;
}

/**
 * A digest of everything that decides the service's image: the Dockerfile, .dockerignore,
 * the base image, and every file of the build context that the Dockerfile copies for it
 * (path, executable bit, content), as .dockerignore filters the context.
 */
export function sourcesHash(root: string, service: string, baseImageId: string): string {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const ignoreRules = readFileSync(join(root, '.dockerignore'), 'utf8');
  const ignored = dockerignore().add(ignoreRules);
  const hash = createHash('sha256');
  for (const part of [dockerfile, ignoreRules, baseImageId, service, target]) {
    hash.update(`${part}\0`);
  }
  const sources = [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)\s+\S+$/gm)].flatMap((match) =>
    (match[1] as string)
      .split(/\s+/)
      .map((source) => source.replaceAll('$' + '{SERVICE}', service)),
  );
  const visit = (path: string) => {
    if (ignored.ignores(path)) return;
    const stat = statSync(join(root, path));
    if (stat.isDirectory()) {
      for (const name of readdirSync(join(root, path)).sort()) visit(`${path}/${name}`);
      return;
    }
    hash.update(`${path}\0${stat.mode & 0o111 ? 'x' : '-'}\0`);
    hash.update(readFileSync(join(root, path)));
  };
  for (const source of [...new Set(sources)].sort()) visit(source.replace(/\/$/, ''));
  return hash.digest('hex');
}

export type ServiceImage = {
  service: string;
  name: string;
  id: string;
  /** As buildah reports it, e.g. "338 MB". */
  size: string;
  /** False when the image in storage was already current. */
  built: boolean;
  seconds: number;
};

export type ImagesResult = { base: BaseImage; images: ServiceImage[] };

/**
 * Builds (or keeps, when current) the runtime image of each service, one after another so
 * that they share buildah's layer cache and the npm cache mount.
 */
export async function buildServiceImages(
  options: { services?: string[]; log?: Log; verbose?: boolean } = {},
): Promise<ImagesResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const verbose = options.verbose ?? false;
  const root = findRepoRoot(import.meta.dirname);
  const buildah = ensureBuildah();
  const base = await ensureBaseImage(
    buildah,
    baseReference(root),
    { nodeVersion: pinnedNodeVersion(root) },
    {
      log,
      verbose,
    },
  );
  log(`base: ${base.description}`);
  const images: ServiceImage[] = [];
  for (const service of options.services ?? imageServices(root)) {
    images.push(await buildServiceImage({ root, buildah, base, log, verbose }, service));
  }
  return { base, images };
}

/** The one image the Dockerfile builds on, of the release line the repository pins. */
function baseReference(root: string): string {
  const bases = externalBaseImages(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  if (bases.length !== 1) {
    throw new Error(`expected the Dockerfile to build on one image, found: ${bases.join(', ')}`);
  }
  const reference = bases[0] as string;
  const nodeVersion = pinnedNodeVersion(root);
  // The stand-in carries the pinned Node; it must be the release line the Dockerfile names.
  const baseLine = /^(?:.*\/)?node:(\d+)/.exec(reference)?.[1];
  if (baseLine !== nodeVersion.split('.')[0]) {
    throw new Error(
      `the Dockerfile builds on ${reference} but the repository pins Node ${nodeVersion}`,
    );
  }
  return reference;
}

type BuildContext = { root: string; buildah: string; base: BaseImage; log: Log; verbose: boolean };

/** Builds the service's image unless the one in storage carries the same sources hash. */
async function buildServiceImage(context: BuildContext, service: string): Promise<ServiceImage> {
  const { root, buildah, log } = context;
  const started = Date.now();
  const name = imageName(root, service);
  const hash = sourcesHash(root, service, context.base.id);
  const existing = await inspectImage(buildah, name);
  const current = existing?.labels[sourcesHashLabel] === hash;
  if (!current) {
    log(`${name}: building`);
    await runProgram(
      buildah,
      [
        ...['bud', '--isolation', 'chroot', '--layers'],
        // The base was just pulled or made; never reach for a registry here.
        '--pull=never',
        ...['--target', target, '--build-arg', `SERVICE=${service}`],
        ...['--label', `${sourcesHashLabel}=${hash}`, '--tag', name],
        ...['--file', join(root, 'Dockerfile'), root],
      ],
      { log: context.verbose ? (line) => log(`  ${line}`) : undefined },
    );
  }
  const image = await inspectImage(buildah, name);
  if (!image) throw new Error(`${name} was built but buildah cannot find it`);
  // The image this one replaced is now nameless; nothing refers to a service's final image.
  if (existing && existing.id !== image.id) {
    await runProgram(buildah, ['rmi', existing.id]).catch(() => {});
  }
  const size = await imageSize(buildah, name);
  const seconds = (Date.now() - started) / 1000;
  return { service, name, id: image.id, size, built: !current, seconds };
}
