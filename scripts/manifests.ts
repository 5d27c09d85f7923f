// Writes every file the services' manifests (services/*/service.json) decide: dapr.yaml,
// the gateway's upstream table, the chart's services, access control and NATS subjects,
// the resiliency targets, the subscriptions and the topic scopes. With --check it writes
// nothing and fails, naming each file that disagrees with the manifests.

import { dirname } from 'node:path';
import { driftedFiles, renderAll, writeGenerated } from '@shop/devkit/manifests';

const repoRoot = dirname(import.meta.dirname);
let generated: Map<string, string>;
try {
  generated = await renderAll(repoRoot);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
if (process.argv.includes('--check')) {
  const drifted = driftedFiles(repoRoot, generated);
  for (const path of drifted) console.error(`${path}: differs from what the manifests make`);
  if (drifted.length > 0) {
    console.error('run `npm run manifests`');
    process.exit(1);
  }
  console.log(`${generated.size} files match services/*/service.json`);
} else {
  const written = writeGenerated(repoRoot, generated);
  for (const path of written) console.log(`wrote ${path}`);
  if (written.length === 0) console.log('every generated file was current');
}
