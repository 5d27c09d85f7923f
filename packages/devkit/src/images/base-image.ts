import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram } from '../process/commands.ts';
import { ensureDebianProgram } from '../process/system.ts';

// Container images built without a Docker engine: Debian's buildah, chroot isolation (no
// user namespaces or cgroup delegation needed), its own storage under
// /var/lib/containers as the layer cache. Where no registry answers, the Dockerfile's base
// is replaced by a stand-in assembled from Debian packages and Node's npm-published binary.

export type Log = (line: string) => void;

/** buildah, installed from Debian when running as root; otherwise an error naming the package. */
export function ensureBuildah(): string {
  return ensureDebianProgram('buildah', 'buildah');
}

/** A reference as buildah stores it: `node:24-slim` is Docker Hub's `library/node`. */
export function fullyQualified(reference: string): string {
  const [first, ...rest] = reference.split('/');
  const hasRegistry = rest.length > 0 && /[.:]|^localhost$/.test(first as string);
  if (hasRegistry) return reference;
  return `docker.io/${rest.length === 0 ? 'library/' : ''}${reference}`;
}

export type ImageFacts = {
  id: string;
  labels: Record<string, string>;
  user: string;
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
  env: string[];
};

/** What buildah knows of a local image, or undefined when there is none by that name. */
export async function inspectImage(buildah: string, name: string): Promise<ImageFacts | undefined> {
  let output: string;
  try {
    output = await runProgram(buildah, ['inspect', '--type', 'image', name]);
  } catch {
    return undefined;
  }
  const inspected = JSON.parse(output) as {
    FromImageID: string;
    OCIv1: {
      config?: {
        User?: string;
        Entrypoint?: string[] | null;
        Cmd?: string[] | null;
        WorkingDir?: string;
        Env?: string[] | null;
        Labels?: Record<string, string> | null;
      };
    };
  };
  const config = inspected.OCIv1.config ?? {};
  return {
    id: inspected.FromImageID,
    labels: config.Labels ?? {},
    user: config.User ?? '',
    entrypoint: config.Entrypoint ?? [],
    cmd: config.Cmd ?? [],
    workingDir: config.WorkingDir ?? '/',
    env: config.Env ?? [],
  };
}

/** The image's size as buildah reports it (e.g. "338 MB"), or "?" when it reports none. */
export async function imageSize(buildah: string, name: string): Promise<string> {
  const listed = JSON.parse(await runProgram(buildah, ['images', '--json', name])) as {
    size?: string | number;
  }[];
  return String(listed[0]?.size ?? '?');
}

/** The images the Dockerfile builds on: FROM references that are not one of its own stages. */
export function externalBaseImages(dockerfile: string): string[] {
  const stages = new Set<string>();
  const bases: string[] = [];
  for (const match of dockerfile.matchAll(/^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    const reference = match[1] as string;
    if (!stages.has(reference.toLowerCase()) && !bases.includes(reference)) bases.push(reference);
    if (match[2]) stages.add(match[2].toLowerCase());
  }
  return bases;
}

export const standInLabel = 'shop.stand-in';

export type BaseImage = {
  /** The name the Dockerfile uses, fully qualified. */
  name: string;
  id: string;
  /** True when this is the locally assembled stand-in, not the registry's image. */
  standIn: boolean;
  description: string;
};

export type StandInSpec = {
  /** The exact Node version, e.g. the root package.json's pinned `node`. */
  nodeVersion: string;
  /** The Debian release to bootstrap; defaults to this machine's. */
  debianRelease?: string;
};

/**
 * Makes the Dockerfile's base image available in buildah's storage: the registry's image when
 * a pull succeeds within the timeout, else one already pulled earlier, else the stand-in
 * (built once per Debian release and Node version, then kept in buildah's storage) tagged
 * with the base's name so that the Dockerfile builds unchanged.
 */
export async function ensureBaseImage(
  buildah: string,
  reference: string,
  standIn: StandInSpec,
  options: { log: Log; verbose?: boolean; pullTimeoutMs?: number },
): Promise<BaseImage> {
  const name = fullyQualified(reference);
  const pull = await runProgram(
    buildah,
    ['pull', '--policy', 'always', '--retry', '0', '--quiet', name],
    { timeoutMs: options.pullTimeoutMs ?? 30_000 },
  ).then(
    () => undefined,
    (error: Error) => error.message.split('\n').filter(Boolean).at(-1) ?? error.message,
  );
  const present = await inspectImage(buildah, name);
  if (present && present.labels[standInLabel] !== 'true') {
    const how = pull === undefined ? 'pulled' : `already in local storage (pull failed: ${pull})`;
    return { name, id: present.id, standIn: false, description: `${name}, ${how}` };
  }
  options.log(`${name} could not be pulled (${pull}); using a local stand-in`);

  const debianRelease = standIn.debianRelease ?? hostDebianRelease();
  const standInName = `localhost/shop-stand-in/node:${standIn.nodeVersion}-${debianRelease}`;
  let built = await inspectImage(buildah, standInName);
  if (!built) {
    await buildStandIn(buildah, standInName, { ...standIn, debianRelease }, options);
    built = await inspectImage(buildah, standInName);
    if (!built) throw new Error(`the stand-in ${standInName} was committed but cannot be found`);
  }
  if (present?.id !== built.id) await runProgram(buildah, ['tag', standInName, name]);
  return {
    name,
    id: built.id,
    standIn: true,
    description:
      `${name} is a LOCAL STAND-IN (${standInName}: Debian ${debianRelease} minbase + Node ` +
      `${standIn.nodeVersion} from the npm registry, this machine's CA certificates); ` +
      'for checks on this machine only, never push images built on it',
  };
}

function hostDebianRelease(): string {
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
  const codename = /^VERSION_CODENAME=(\S+)/m.exec(osRelease)?.[1]?.replaceAll('"', '');
  if (!codename) {
    throw new Error(
      'the stand-in base is bootstrapped from a Debian mirror, and this machine does not say ' +
        'which Debian release it runs (/etc/os-release has no VERSION_CODENAME)',
    );
  }
  return codename;
}

/** The first Debian mirror in this machine's apt sources that serves the release's main. */
export function debianMirror(release: string): string {
  const files = ['/etc/apt/sources.list'];
  const folder = '/etc/apt/sources.list.d';
  if (existsSync(folder)) files.push(...readdirSync(folder).map((name) => join(folder, name)));
  for (const file of files.filter(existsSync)) {
    const text = readFileSync(file, 'utf8');
    // deb822 stanzas (*.sources)
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (key: string) =>
        new RegExp(`^${key}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
      if (field('Suites').includes(release) && field('Components').includes('main')) {
        const uri = field('URIs')[0];
        if (uri) return uri;
      }
    }
    // one-line entries (*.list)
    for (const match of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/gm)) {
      if (match[2] === release && (match[3] as string).split(/\s+/).includes('main')) {
        return match[1] as string;
      }
    }
  }
  return 'http://deb.debian.org/debian';
}

/** The npm release a Node release bundles, from the release notes shipped beside its binary. */
function bundledNpmVersion(changelog: string, nodeVersion: string): string | undefined {
  const start = changelog.indexOf(`<a id="${nodeVersion}"></a>`);
  if (start < 0) return undefined;
  return /upgrade npm to (\d+\.\d+\.\d+)/.exec(changelog.slice(start))?.[1];
}

const nodeArchitectures: Record<string, string> = { x64: 'x64', arm64: 'arm64' };

// Written for the stand-in; behaves like the official images' entrypoint: an option or a
// file name as the first argument means "run this with node", a command runs as it is.
const entrypointScript = `#!/bin/sh
set -e
case "$1" in
  -*) set -- node "$@" ;;
  *) if ! command -v "$1" >/dev/null 2>&1 || { [ -f "$1" ] && [ ! -x "$1" ]; }; then
       set -- node "$@"
     fi ;;
esac
exec "$@"
`;

type StandInContext = {
  buildah: string;
  spec: Required<StandInSpec>;
  log: Log;
  /** Where each step's own output goes: the log when verbose. */
  stepLog: Log | undefined;
};

/**
 * The stand-in base: Debian minbase by debootstrap, the pinned Node and its npm from the
 * npm registry, the official image's `node` account and entrypoint, committed by buildah.
 */
async function buildStandIn(
  buildah: string,
  name: string,
  spec: Required<StandInSpec>,
  options: { log: Log; verbose?: boolean },
): Promise<void> {
  const { debootstrap, architecture } = standInPrerequisites();
  const context = {
    buildah,
    spec,
    log: options.log,
    stepLog: options.verbose ? options.log : undefined,
  };
  const started = Date.now();
  options.log(`building the stand-in ${name} (once; kept in buildah's storage)`);
  const workDir = await mkdtemp(join(tmpdir(), 'shop-stand-in-'));
  const container = (
    await runProgram(buildah, ['from', '--name', `shop-stand-in-${Date.now()}`, 'scratch'])
  ).trim();
  try {
    const root = (await runProgram(buildah, ['mount', container])).trim();
    const mirror = debianMirror(spec.debianRelease);
    options.log(`  debootstrap --variant=minbase ${spec.debianRelease} from ${mirror}`);
    await runProgram(debootstrap, ['--variant=minbase', spec.debianRelease, root, mirror], {
      log: context.stepLog,
      timeoutMs: 20 * 60_000,
    });
    await installNode(context, root, workDir, architecture);
    await addNodeAccount(root);
    await trustHostCertificates(root);
    await smokeTestNode(root, spec.nodeVersion);
    clearRuntimeFolders(root);
    await runProgram(buildah, ['umount', container]);
    await commitStandIn(context, container, name);
    options.log(`  stand-in ready in ${Math.round((Date.now() - started) / 1000)} s`);
  } catch (error) {
    await runProgram(buildah, ['rm', container]).catch(() => {});
    throw error;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

function standInPrerequisites(): { debootstrap: string; architecture: string } {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the stand-in base image needs root (debootstrap and chroot); run as root, or make ' +
        `the real base pullable`,
    );
  }
  const debootstrap = ensureDebianProgram('debootstrap', 'debootstrap');
  const architecture = nodeArchitectures[process.arch];
  if (!architecture) throw new Error(`no Node binary is published on npm for ${process.arch}`);
  return { debootstrap, architecture };
}

/** Node's binary and the npm its release bundles, both from the npm registry. */
async function installNode(
  { spec, log }: StandInContext,
  root: string,
  workDir: string,
  architecture: string,
): Promise<void> {
  log(`  node-linux-${architecture}@${spec.nodeVersion} from the npm registry`);
  const nodePackage = await unpackFromNpm(
    `node-linux-${architecture}@${spec.nodeVersion}`,
    workDir,
  );
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  copyFileSync(join(nodePackage, 'bin/node'), join(root, 'usr/local/bin/node'));
  const changelog = readFileSync(join(nodePackage, 'CHANGELOG.md'), 'utf8');
  const npmVersion = bundledNpmVersion(changelog, spec.nodeVersion);
  if (!npmVersion) {
    throw new Error(`Node ${spec.nodeVersion}'s release notes do not say which npm it bundles`);
  }
  log(`  npm@${npmVersion} (the one Node ${spec.nodeVersion} bundles)`);
  const npmPackage = await unpackFromNpm(`npm@${npmVersion}`, workDir);
  const npmHome = join(root, 'usr/local/lib/node_modules/npm');
  mkdirSync(join(npmHome, '..'), { recursive: true });
  await runProgram('cp', ['-a', `${npmPackage}/.`, npmHome]);
  await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
  await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
}

/** The official image's unprivileged account, with the same ids (`USER node` is uid 1000). */
async function addNodeAccount(root: string): Promise<void> {
  await runProgram('chroot', [root, 'groupadd', '--gid', '1000', 'node']);
  await runProgram('chroot', [
    ...[root, 'useradd', '--uid', '1000', '--gid', 'node'],
    ...['--shell', '/bin/bash', '--create-home', 'node'],
  ]);
  await writeFile(join(root, 'usr/local/bin/docker-entrypoint.sh'), entrypointScript, {
    mode: 0o755,
  });
}

/**
 * npm inside builds must trust whatever this machine trusts (e.g. an intercepting proxy's
 * CA); that is why the stand-in is for this machine only.
 */
async function trustHostCertificates(root: string): Promise<void> {
  const hostCertificates = '/etc/ssl/certs/ca-certificates.crt';
  if (!existsSync(hostCertificates)) return;
  mkdirSync(join(root, 'etc/ssl/certs'), { recursive: true });
  copyFileSync(hostCertificates, join(root, 'etc/ssl/certs/ca-certificates.crt'));
  mkdirSync(join(root, 'usr/local/etc'), { recursive: true });
  await writeFile(join(root, 'usr/local/etc/npmrc'), `cafile=${hostCertificates}\n`);
}

async function smokeTestNode(root: string, nodeVersion: string): Promise<void> {
  const reported = (await runProgram('chroot', [root, '/usr/local/bin/node', '--version'])).trim();
  if (reported !== `v${nodeVersion}`) {
    throw new Error(`the stand-in's node reports ${reported}, not v${nodeVersion}`);
  }
}

/** A runtime mounts /dev; package lists only matter to apt, which the image does not run. */
function clearRuntimeFolders(root: string): void {
  for (const folder of ['dev', 'var/lib/apt/lists', 'var/cache/apt']) {
    rmSync(join(root, folder), { recursive: true, force: true });
    mkdirSync(join(root, folder), { recursive: true });
  }
}

/** The official image's environment, entrypoint and command, and labels that say what it is. */
async function commitStandIn(
  { buildah, spec, stepLog }: StandInContext,
  container: string,
  name: string,
): Promise<void> {
  const description =
    'org.opencontainers.image.description=LOCAL STAND-IN for the Node base image, with ' +
    "this machine's CA certificates; never push it or images built on it";
  await runProgram(buildah, [
    'config',
    ...['--env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    ...['--env', `NODE_VERSION=${spec.nodeVersion}`],
    ...['--entrypoint', '["docker-entrypoint.sh"]', '--cmd', 'node'],
    ...['--label', `${standInLabel}=true`],
    ...['--label', `${standInLabel}.debian=${spec.debianRelease}`],
    ...['--label', `${standInLabel}.node=${spec.nodeVersion}`],
    ...['--label', description],
    container,
  ]);
  await runProgram(buildah, ['commit', '--rm', '--quiet', container, name], { log: stepLog });
}

/** `npm pack`s a package and unpacks it; returns the unpacked folder. */
async function unpackFromNpm(spec: string, workDir: string): Promise<string> {
  const folder = await mkdtemp(join(workDir, 'package-'));
  const packed = JSON.parse(
    await runProgram('npm', ['pack', spec, '--json', '--pack-destination', folder], {
      timeoutMs: 10 * 60_000,
    }),
  ) as { filename: string }[];
  const tarball = join(folder, (packed[0] as { filename: string }).filename);
  await runProgram('tar', ['-xzf', tarball, '-C', folder, '--no-same-owner']);
  return join(folder, 'package');
}

/** A throw-away working container of an image, its root filesystem mounted on the host. */
export type MountedImage = { rootfs: string; remove(): Promise<void> };

export async function mountImage(
  buildah: string,
  image: string,
  containerName: string,
): Promise<MountedImage> {
  await runProgram(buildah, ['rm', containerName]).catch(() => {});
  await runProgram(buildah, ['from', '--pull-never', '--name', containerName, image]);
  const rootfs = (await runProgram(buildah, ['mount', containerName])).trim();
  return { rootfs, remove: () => runProgram(buildah, ['rm', containerName]).then(() => {}) };
}

/** The uid and gid an image's `USER` names, looked up in the image's own /etc/passwd and /etc/group. */
export function imageAccount(rootfs: string, user: string): { uid: number; gid: number } {
  const [userPart = '', groupPart] = user.split(':');
  const table = (file: string) =>
    readFileSync(join(rootfs, 'etc', file), 'utf8')
      .split('\n')
      .map((line) => line.split(':'));
  const passwd = table('passwd').find((fields) => fields[0] === userPart || fields[2] === userPart);
  const uid = /^\d+$/.test(userPart) ? Number(userPart) : Number(passwd?.[2]);
  if (Number.isNaN(uid)) throw new Error(`the image has no account "${userPart}"`);
  let gid = Number(passwd?.[3] ?? uid);
  if (groupPart !== undefined) {
    const group = table('group').find((fields) => fields[0] === groupPart);
    gid = /^\d+$/.test(groupPart) ? Number(groupPart) : Number(group?.[2]);
  }
  return { uid, gid };
}

// Runs in a private mount namespace, so every mount disappears with the process: the image's
// root read-only (as the chart runs it) with a fresh /tmp, /proc and the host's /dev.
const chrootScript = `set -e
root=$1 account=$2 workdir=$3
shift 3
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
exec chroot --userspec="$account" "$root" /usr/bin/env -i --chdir="$workdir" "$@"
`;

/**
 * Starts an image's entrypoint and command from its mounted root filesystem the way a
 * container runtime would (its user, working directory and environment, root read-only),
 * but in a chroot on the host's network, since these machines cannot run containers.
 * Needs root. Every step execs the next, so the returned process ends up being the
 * image's own program and a signal sent to it reaches that program.
 */
export function spawnImageEntrypoint(
  rootfs: string,
  facts: ImageFacts,
  env: Record<string, string>,
): ChildProcess {
  const { uid, gid } = imageAccount(rootfs, facts.user || 'root');
  const argv = [...facts.entrypoint, ...facts.cmd];
  if (argv.length === 0) throw new Error('the image has neither an entrypoint nor a command');
  const environment = [
    ...facts.env,
    ...Object.entries(env).map(([key, value]) => `${key}=${value}`),
  ];
  return spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      chrootScript,
      'sh',
      rootfs,
      `${uid}:${gid}`,
      facts.workingDir || '/',
      ...environment,
      ...argv,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}
