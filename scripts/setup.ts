// Everything a fresh machine needs before the shop can run or be tested: the right Node,
// a daprd of the pinned version (built once and cached), and the Debian packages.
import { ensureDebianProgram, findRepoRoot, resolveDaprd } from '@shop/platform/supervisor';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 24 || (major === 24 && minor < 7)) {
  console.error(
    `shop: Node ${process.versions.node} is running; this project needs Node 24.7+, which \`npm install\` ` +
      'brings into node_modules/.bin. Run scripts through npm (npm start, npm test).',
  );
  process.exit(1);
}

try {
  const daprd = resolveDaprd(findRepoRoot());
  ensureDebianProgram('redis-server', 'redis-server');
  console.log(`shop: ready to run (node ${process.versions.node}, daprd ${daprd})`);
} catch (error) {
  console.error(`shop: ${(error as Error).message}`);
  process.exit(1);
}
