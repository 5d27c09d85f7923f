// Runs the pinned helm (built and cached on first use) as helm itself:
//   node scripts/helm.ts lint charts/shop
//   node scripts/helm.ts install shop charts/shop
import { spawnSync } from 'node:child_process';
import { resolveHelm } from '@shop/devkit/cluster';
import { findRepoRoot } from '@shop/devkit/process';

const helm = resolveHelm(findRepoRoot(import.meta.dirname));
const result = spawnSync(helm, process.argv.slice(2), { stdio: 'inherit' });
process.exit(result.status ?? 1);
