// `npm run keys -- rotate [secrets-file]`: rotates the JWT signing key in a local secrets
// file (default: the one `npm start` uses). The old key stays published as the previous one,
// so tokens it signed remain valid until they expire; restart the shop to load the new key.
// `npm run keys -- init <secrets-file>` creates such a file for use with the Dapr CLI.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureLocalSecrets } from '@shop/devkit/infra';
import { findRepoRoot } from '@shop/devkit/process';
import {
  parseSigningKeySet,
  rotateSigningKeySet,
  signingKeysSecretName,
} from '@shop/platform/auth';

const [command, fileArg] = process.argv.slice(2);
const file =
  fileArg ??
  join(process.env.SHOP_DATA_DIR ?? join(findRepoRoot(), '.shop', 'data'), 'secrets.json');

if (command === 'init') {
  await ensureLocalSecrets(dirname(file));
  console.log(`shop: signing keys ready in ${file}`);
} else if (command === 'rotate') {
  const secrets = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const rotated = await rotateSigningKeySet(
    parseSigningKeySet(secrets[signingKeysSecretName] ?? ''),
  );
  secrets[signingKeysSecretName] = JSON.stringify(rotated);
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  console.log(
    `shop: signing with ${rotated.current.kid}; next ${rotated.next?.kid}; previous ${rotated.previous?.kid}`,
  );
} else {
  console.error('usage: npm run keys -- init <secrets-file> | rotate [secrets-file]');
  process.exit(2);
}
