// CPU profiles of every process of the shop over one window: each Node service through its
// inspector, each daprd through its pprof server; then, per process, the raw profile, its
// folded stacks and a flame graph, written to one folder.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '@shop/devkit/process';
import { loadManifest } from '@shop/devkit/shop';
import { renderFlameGraph } from './flamegraph.ts';
import { type CpuProfile, type Folded, foldCpuProfile, foldedText } from './fold.ts';
import { startCpuProfile } from './inspector.ts';
import { foldPprofFile, recordPprof } from './pprof.ts';

/** Where each service's inspector and each sidecar's pprof server listen, by process name. */
export type ProfilePorts = { inspector: Map<string, number>; pprof: Map<string, number> };

export type Recorded = { name: string; kind: 'node' | 'daprd'; folded: Folded; files: string[] };

/** A loopback port for each app's inspector and each sidecar's pprof server. */
export async function profilePorts(repoRoot: string): Promise<ProfilePorts> {
  const apps = loadManifest(repoRoot).apps.map((app) => app.appId);
  const ports = await freePorts(apps.length * 2);
  return {
    inspector: new Map(apps.map((app, i) => [app, ports[2 * i] as number])),
    pprof: new Map(apps.map((app, i) => [`${app}-dapr`, ports[2 * i + 1] as number])),
  };
}

/** The ports of the named processes only (the hop's, say). */
export function onlyProcesses(ports: ProfilePorts, names: string[]): ProfilePorts {
  const keep = (map: Map<string, number>) =>
    new Map([...map].filter(([name]) => names.includes(name)));
  return { inspector: keep(ports.inspector), pprof: keep(ports.pprof) };
}

/**
 * The shop's `extraArgs` that open them. daprd's pprof server has no listen-address flag
 * and binds every interface: the profile only ever runs on a machine of one's own.
 */
export function profilingArgs(ports: ProfilePorts): Record<string, string[]> {
  const args: Record<string, string[]> = {};
  for (const [name, port] of ports.inspector) args[name] = [`--inspect=127.0.0.1:${port}`];
  for (const [name, port] of ports.pprof)
    args[name] = ['--enable-profiling', '--profile-port', String(port)];
  return args;
}

/**
 * Starts profiling every process now for `seconds`; `finish` waits for the window's end,
 * writes each profile to `outDir` and returns them folded.
 */
export async function startRecording(
  ports: ProfilePorts,
  options: { seconds: number; intervalUs: number; outDir: string },
): Promise<{ finish(): Promise<Recorded[]> }> {
  const stops = await Promise.all(
    [...ports.inspector].map(async ([name, port]) => ({
      name,
      stop: await startCpuProfile(port, options.intervalUs),
    })),
  );
  const endsAt = Date.now() + options.seconds * 1000;
  const daprd = [...ports.pprof].map(([name, port]) => {
    const file = join(options.outDir, `${name}.pb.gz`);
    return { name, file, done: recordPprof(port, options.seconds, file) };
  });
  return {
    async finish() {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, endsAt - Date.now())));
      const node = await Promise.all(
        stops.map(async ({ name, stop }) => writeNodeProfile(name, await stop(), options.outDir)),
      );
      const go = await Promise.all(
        daprd.map(async ({ name, file, done }) => {
          await done;
          return writeFolded(
            { name, kind: 'daprd', folded: await foldPprofFile(file), files: [file] },
            options.outDir,
          );
        }),
      );
      return [...node, ...go];
    },
  };
}

function writeNodeProfile(name: string, profile: CpuProfile, outDir: string): Recorded {
  const file = join(outDir, `${name}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  return writeFolded(
    { name, kind: 'node', folded: foldCpuProfile(profile), files: [file] },
    outDir,
  );
}

/** The folded stacks and the flame graph beside the raw profile. */
function writeFolded(recorded: Recorded, outDir: string): Recorded {
  const folded = join(outDir, `${recorded.name}.folded.txt`);
  const svg = join(outDir, `${recorded.name}.svg`);
  writeFileSync(folded, `${foldedText(recorded.folded)}\n`);
  writeFileSync(svg, renderFlameGraph(recorded.folded, `${recorded.name} (${recorded.kind})`));
  return { ...recorded, files: [...recorded.files, folded, svg] };
}
