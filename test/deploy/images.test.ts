// Every service's runtime image, built for real by buildah from the Dockerfile (the same code
// as `npm run images`, which this reuses when its images are current) and then inspected:
// whom it runs as, what it contains, and whether its entrypoint starts the service. No
// container can run on these machines, so the entrypoint runs in a chroot of the image's
// mounted root filesystem instead (see spawnImageEntrypoint).
import type { ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  buildServiceImages,
  ensureBuildah,
  type ImageFacts,
  type ImagesResult,
  imageAccount,
  imageServices,
  inspectImage,
  type MountedImage,
  mountImage,
  sourcesHash,
  sourcesHashLabel,
  spawnImageEntrypoint,
  standInLabel,
} from '@shop/devkit/images';
import {
  findExecutables,
  findRepoRoot,
  freePorts,
  pollUntil,
  runProgram,
} from '@shop/devkit/process';
import { startTestMongo, type TestMongo, unlessMissing } from '@shop/devkit/testing';
import { generateSigningKeySet, signingKeysSecretName } from '@shop/platform/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = findRepoRoot();
const services = imageServices(root);

/** Why this machine cannot build the images, or undefined when it can. */
function whyNoBuilds(): string | undefined {
  if (process.platform !== 'linux')
    return `buildah builds on Linux only, this is ${process.platform}`;
  const isRoot = process.getuid?.() === 0;
  const hasBuildah = findExecutables('buildah', ['/usr/sbin', '/usr/bin']).length > 0;
  if (!hasBuildah && !(isRoot && existsSync('/usr/bin/apt-get'))) {
    return 'buildah is not installed and this user cannot install it (needs root and apt-get)';
  }
  if (!isRoot) {
    return "not root: the stand-in base (debootstrap), buildah's system storage and mounting an image all need root";
  }
  return undefined;
}

/** Why this machine cannot run an image's entrypoint in a chroot, or undefined when it can. */
function whyNoEntrypointRuns(): string | undefined {
  const missing = ['unshare', 'chroot', 'mount'].filter(
    (program) => findExecutables(program, ['/usr/sbin', '/usr/bin', '/sbin', '/bin']).length === 0,
  );
  return missing.length > 0 ? `${missing.join(', ')} missing (util-linux, coreutils)` : undefined;
}

const noBuilds = whyNoBuilds();
const noEntrypointRuns = noBuilds ?? whyNoEntrypointRuns();
// Skipped here with the reason printed; under CI a missing capability fails the file.
const skipBuilds = unlessMissing(noBuilds);
const skipEntrypointRuns = unlessMissing(noEntrypointRuns);
/** A test's title, naming the reason when this machine skips it. */
const titled = (title: string, skipReason: string | undefined) =>
  skipReason ? `${title} (skipped on this machine: ${skipReason})` : title;

// What must stay out of every image. Test material is looked for in the shop's own code
// only: some published packages (zod, pg-protocol) ship their own *.test.ts files.
const forbidden = [
  { what: 'the devkit', pattern: /(^|\/)packages\/devkit$|node_modules\/@shop\/devkit$/ },
  { what: 'a test runner', pattern: /node_modules\/(vitest|@vitest\/[^/]+)$/ },
  { what: 'a linter', pattern: /node_modules\/@biomejs\/[^/]+$/ },
  { what: 'a compiler', pattern: /node_modules\/typescript$/ },
  { what: 'a test file', pattern: /\.test\.ts$/, ownCodeOnly: true },
  { what: 'a test helper', pattern: /(^|\/)test-support\.ts$/, ownCodeOnly: true },
  { what: 'test data', pattern: /(^|\/)testdata$/, ownCodeOnly: true },
];

/** Every path under `folder` of the image (symlinks not followed) that is on the forbidden list. */
function forbiddenPaths(rootfs: string, folder: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    for (const name of readdirSync(join(rootfs, path))) {
      const child = `${path}/${name}`;
      const ownCode = !child.includes('/node_modules/');
      const offence = forbidden.find(
        ({ pattern, ownCodeOnly }) => (ownCode || !ownCodeOnly) && pattern.test(child),
      );
      if (offence) found.push(`${child} (${offence.what})`);
      else if (lstatSync(join(rootfs, child)).isDirectory()) walk(child);
    }
  };
  if (existsSync(join(rootfs, folder))) walk(folder);
  return found;
}

/**
 * Just enough of a Dapr sidecar for the services to start: healthy, its metadata, and the
 * users service's signing keys from the secret store. Everything else answers 404, as for a missing component.
 */
async function startFakeSidecar(): Promise<Server> {
  const signingKeys = JSON.stringify(await generateSigningKeySet());
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://sidecar').pathname;
    if (path.startsWith('/v1.0/healthz')) return response.writeHead(204).end();
    // Dapr's SDK takes an answer here as its sign that the sidecar is up.
    if (path === '/v1.0/metadata') {
      response.writeHead(200, { 'content-type': 'application/json' });
      return response.end(JSON.stringify({ id: 'images-test', components: [] }));
    }
    if (path.match(/^\/v1\.0\/secrets\/[^/]+\/(.+)$/)?.[1] === signingKeysSecretName) {
      response.writeHead(200, { 'content-type': 'application/json' });
      return response.end(JSON.stringify({ [signingKeysSecretName]: signingKeys }));
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ errorCode: 'ERR_NOT_FOUND', message: `no ${path} here` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

type Running = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

function track(child: ChildProcess): Running {
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-6_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, output: () => output, exited };
}

/** The service's /healthz answer, once it gives one; fails at once if the service exits. */
async function waitForHealth(port: number, running: Running, timeoutMs: number): Promise<unknown> {
  let exitCode: number | null | undefined;
  void running.exited.then((code) => {
    exitCode = code;
  });
  const healthz = async () => {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, {
      signal: AbortSignal.timeout(1_000),
    });
    return response.ok ? ((await response.json()) as unknown) : undefined;
  };
  return pollUntil(healthz, {
    what: `/healthz on port ${port}`,
    timeoutMs,
    intervalMs: 250,
    giveUpIf: () => (exitCode === undefined ? undefined : `/healthz: exited (${exitCode})`),
  }).catch((error: Error) => {
    throw new Error(`${error.message}\n${running.output()}`);
  });
}

const containerPrefix = 'shop-images-test-';

/** Working containers a killed run of this test left behind (their run's pid is gone). */
async function removeLeftoverContainers(buildah: string): Promise<void> {
  const names = (await runProgram(buildah, ['containers', '--format', '{{.ContainerName}}']))
    .split('\n')
    .filter((name) => name.startsWith(containerPrefix));
  for (const name of names) {
    const pid = Number(name.split('-').at(-1));
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) await runProgram(buildah, ['rm', name]).catch(() => {});
  }
}

describe('service images built by buildah', () => {
  let result: ImagesResult | undefined;
  const facts = new Map<string, ImageFacts>();
  const mounted = new Map<string, MountedImage>();
  const started: ChildProcess[] = [];
  let sidecar: Server | undefined;
  let mongo: TestMongo | undefined;
  const killStarted = () => {
    for (const child of started) child.kill('SIGKILL');
  };

  beforeAll(async () => {
    if (noBuilds) return;
    const buildah = ensureBuildah();
    await removeLeftoverContainers(buildah);
    const begun = Date.now();
    result = await buildServiceImages({ log: (line) => console.error(`images: ${line}`) });
    for (const image of result.images) {
      const how = image.built ? `built in ${image.seconds.toFixed(0)} s` : 'current, reused';
      console.error(`images: ${image.name} ${image.size}, ${how}`);
    }
    console.error(`images: ready in ${((Date.now() - begun) / 1000).toFixed(0)} s`);
    for (const image of result.images) {
      const inspected = await inspectImage(buildah, image.name);
      if (!inspected) throw new Error(`${image.name} is missing after the build`);
      facts.set(image.service, inspected);
      const container = `${containerPrefix}${image.service}-${process.pid}`;
      mounted.set(image.service, await mountImage(buildah, image.name, container));
    }
    process.once('exit', killStarted);
    if (!noEntrypointRuns) {
      sidecar = await startFakeSidecar();
      mongo = await startTestMongo();
    }
    // A cold build includes the stand-in base (about a minute) and every npm install.
  }, 40 * 60_000);

  afterAll(async () => {
    killStarted();
    process.removeListener('exit', killStarted);
    for (const image of mounted.values()) await image.remove().catch(() => {});
    sidecar?.close();
    await mongo?.stop();
  });

  it.skipIf(skipBuilds)(
    titled(
      'has one runtime image per service, labelled with the hash of its current inputs',
      noBuilds,
    ),
    () => {
      const { base, images } = result as ImagesResult;
      expect(images.map((image) => image.service)).toEqual(services);
      for (const { service } of images) {
        const label = facts.get(service)?.labels[sourcesHashLabel];
        expect(label, service).toBe(sourcesHash(root, service, base.id));
      }
    },
  );

  it.skipIf(skipBuilds)(
    titled(
      'marks every image built on the stand-in base as such, so none is mistaken for a release',
      noBuilds,
    ),
    () => {
      const marked = [...facts].filter(([, image]) => image.labels[standInLabel] === 'true');
      expect(marked.length).toBe(result?.base.standIn ? services.length : 0);
    },
  );

  describe.each(services)('the %s image', (service) => {
    it.skipIf(skipBuilds)(
      titled('runs as the unprivileged node user, uid 1000, never root', noBuilds),
      () => {
        const image = facts.get(service) as ImageFacts;
        expect(image.user).toBe('node');
        const account = imageAccount((mounted.get(service) as MountedImage).rootfs, image.user);
        expect(account).toEqual({ uid: 1000, gid: 1000 });
      },
    );

    it.skipIf(skipBuilds)(
      titled('holds no dev tooling, test file, test helper or test data', noBuilds),
      () => {
        const { rootfs } = mounted.get(service) as MountedImage;
        expect(existsSync(join(rootfs, `app/services/${service}/src/main.ts`))).toBe(true);
        expect(existsSync(join(rootfs, 'app/node_modules'))).toBe(true);
        const found = [
          ...forbiddenPaths(rootfs, 'app'),
          // A global install would reach the app through node's module lookup too.
          ...forbiddenPaths(rootfs, 'usr/local/lib/node_modules'),
        ];
        expect(found).toEqual([]);
      },
    );
  });

  // All at once: each start waits seconds on its embedded database, mostly idle.
  it.skipIf(skipEntrypointRuns).concurrent.each(services)(
    titled(
      "%s: the image's entrypoint and command start the service, which answers /healthz and stops cleanly on SIGTERM",
      noEntrypointRuns,
    ),
    async (service) => {
      const image = facts.get(service) as ImageFacts;
      const { rootfs } = mounted.get(service) as MountedImage;
      const [appPort, unusedPort] = (await freePorts(2)) as [number, number];
      const sidecarPort = ((sidecar as Server).address() as AddressInfo).port;
      const env: Record<string, string> = {
        APP_PORT: String(appPort),
        APP_API_TOKEN: 'images-test-app-api-token',
        DAPR_HOST: '127.0.0.1',
        DAPR_HTTP_PORT: String(sidecarPort),
        // The gateway connects to its rate-limit Redis on first use; nothing calls it here.
        REDIS_HOST: `127.0.0.1:${unusedPort}`,
        MONGODB_URL: (mongo as TestMongo).freshDatabaseUrl(),
      };
      const running = track(spawnImageEntrypoint(rootfs, image, env));
      started.push(running.child);
      expect(await waitForHealth(appPort, running, 90_000)).toEqual({ status: 'ok' });
      running.child.kill('SIGTERM');
      const code = await Promise.race([
        running.exited,
        new Promise((resolve) => setTimeout(() => resolve('still running'), 20_000)),
      ]);
      expect(code, running.output()).toBe(0);
      expect(running.output()).toContain(`"service":"${service}"`);
    },
    150_000,
  );
});
