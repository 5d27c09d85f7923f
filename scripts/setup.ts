// Everything a fresh machine needs before the shop can run or be tested: the right Node,
// daprd, helm and stripe-mock of their pinned versions (built once and cached, before any
// test runs so no test competes with a compiler), and the Debian packages.

import { prepareBrokers } from '@shop/devkit/brokers';
import { resolveFakeNodeTools, resolveHelm, resolveKubeTools } from '@shop/devkit/cluster';
import {
  ensurePrometheus,
  resolveFerretDB,
  resolveJaeger,
  resolveMailpit,
  resolveStripeMock,
} from '@shop/devkit/infra';
import { ensureDebianProgram, findRepoRoot } from '@shop/devkit/process';
import { resolveDaprd, resolveTilt, resolveVegeta } from '@shop/devkit/toolchain';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 24 || (major === 24 && minor < 7)) {
  console.error(
    `shop: Node ${process.versions.node} is running; this project needs Node 24.7+, which \`npm install\` ` +
      'brings into node_modules/.bin. Run scripts through npm (npm start, npm test).',
  );
  process.exit(1);
}

try {
  const repoRoot = findRepoRoot();
  const daprd = resolveDaprd(repoRoot);
  const helm = resolveHelm(repoRoot);
  const stripeMock = resolveStripeMock(repoRoot);
  resolveVegeta(repoRoot); // for npm run bench's checkouts at a constant rate
  resolveMailpit(repoRoot); // the private mail server of npm start and the tests
  resolveFerretDB(repoRoot); // notifications' document database in npm start and the tests
  resolveJaeger(repoRoot); // the trace store of npm start (SHOP_OBSERVABILITY) and its tests
  resolveKubeTools(repoRoot); // etcd, kube-apiserver and kubectl: the deploy tests' cluster
  resolveTilt(repoRoot); // the deploy tests run the Tiltfile through real Tilt
  resolveFakeNodeTools(repoRoot); // controllers, scheduler and kwok's node for its `tilt ci`
  ensureDebianProgram('redis-server', 'redis-server');
  ensureDebianProgram('initdb', 'postgresql', ['/usr/lib/postgresql/15/bin']);
  ensurePrometheus(); // scrapes the shop under npm start (SHOP_OBSERVABILITY)
  // The other broker profiles (SHOP_BROKER): the test suite runs the saga on each.
  const brokers = prepareBrokers(repoRoot);
  console.log(
    `shop: ready (node ${process.versions.node}, daprd ${daprd}, helm ${helm}, stripe-mock ${stripeMock}, ` +
      `rabbitmq ${brokers.rabbitmq}, kafka ${brokers.kafka}, nats-server ${brokers.nats})`,
  );
} catch (error) {
  console.error(`shop: ${(error as Error).message}`);
  process.exit(1);
}
