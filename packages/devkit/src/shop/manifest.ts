import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

const multiAppRun = z.object({
  version: z.literal(1),
  common: z.object({
    resourcesPaths: z.array(z.string()).min(1),
    configFilePath: z.string(),
    appProtocol: z.literal('http').optional(),
    env: z.record(z.string(), z.string()).default({}),
  }),
  apps: z
    .array(
      z.object({
        appID: z.string().regex(/^[a-z][a-z0-9-]*$/),
        appDirPath: z.string(),
        appPort: z.number().int(),
        daprHTTPPort: z.number().int().optional(),
        command: z.array(z.string()).min(1),
        env: z.record(z.string(), z.string()).default({}),
      }),
    )
    .min(1),
});

export type ManifestApp = {
  appId: string;
  dir: string;
  command: string[];
  env: Record<string, string>;
};

export type Manifest = {
  resourcesPaths: string[];
  configFile: string;
  apps: ManifestApp[];
};

/** Reads the Dapr Multi-App Run file: the one list of apps both the CLI and the supervisor run. */
export function loadManifest(repoRoot: string): Manifest {
  const file = multiAppRun.parse(parse(readFileSync(join(repoRoot, 'dapr.yaml'), 'utf8')));
  return {
    resourcesPaths: file.common.resourcesPaths.map((p) => resolve(repoRoot, p)),
    configFile: resolve(repoRoot, file.common.configFilePath),
    apps: file.apps.map((app) => ({
      appId: app.appID,
      dir: resolve(repoRoot, app.appDirPath),
      command: app.command,
      env: { ...file.common.env, ...app.env },
    })),
  };
}
