import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { AppError } from '@shop/platform';
import type { Context } from 'hono';

/** Where GraphiQL's files are served, under the version of the package that ships them. */
export const graphiqlAssetsPath = '/graphql/assets';

const packageJson = new URL(
  '../package.json',
  import.meta.resolve('@graphql-yoga/render-graphiql'),
);
const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
const base = `${graphiqlAssetsPath}/${version}`;

type Bytes = Uint8Array<ArrayBuffer>;
type Asset = { body: Bytes; gzipped: Bytes; type: string; etag: string; immutable: boolean };

// In the thread pool: some 9 MiB, compressed once, would hold the event loop a while.
const compress = promisify(gzip);

async function asset(content: string | Buffer, type: string, immutable = true): Promise<Asset> {
  const body = new Uint8Array(typeof content === 'string' ? Buffer.from(content) : content);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { body, gzipped: new Uint8Array(await compress(body)), type, etag, immutable };
}

const javascript = 'text/javascript; charset=utf-8';

// The settings the page passes in a file of its own, so the page runs no inline script.
// Monaco's workers are files from here as well, not blobs.
const init = `self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: (_moduleId, label) => (${JSON.stringify({
    editorWorkerService: `${base}/editor.worker.js`,
    json: `${base}/json.worker.js`,
    graphql: `${base}/graphql.worker.js`,
  })})[label],
};
YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${JSON.stringify({
  title: 'Shop GraphQL',
})});
`;

// render-graphiql ships every file as a string constant (about 9 MiB in all): read once,
// on the first request for one, and kept with its gzip form and ETag.
let loading: Promise<Map<string, Asset>> | undefined;
async function loadAssets(): Promise<Map<string, Asset>> {
  const files = await import('@graphql-yoga/render-graphiql/graphiql');
  const favicon = files.favicon.replace(/^data:image\/x-icon;base64,/, '');
  const sources: Array<
    [name: string, content: string | Buffer, type: string, immutable?: boolean]
  > = [
    ['graphiql.js', files.js, javascript],
    ['graphiql.css', files.css, 'text/css; charset=utf-8'],
    ['editor.worker.js', files.editorWorkerService, javascript],
    ['json.worker.js', files.jsonWorker, javascript],
    ['graphql.worker.js', files.graphqlWorker, javascript],
    ['favicon.ico', Buffer.from(favicon, 'base64'), 'image/x-icon'],
    // Ours, not the package's: it may change within one package version.
    ['init.js', init, javascript, false],
  ];
  const entries = await Promise.all(
    sources.map(
      async ([name, content, type, immutable]) =>
        [name, await asset(content, type, immutable)] as const,
    ),
  );
  return new Map(entries);
}

/** GraphiQL's page: a few KB naming its files, which are served apart and cached. */
export const graphiqlPage = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Shop GraphQL</title>
    <link rel="icon" href="${base}/favicon.ico">
    <link rel="stylesheet" href="${base}/graphiql.css">
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root"></div>
    <script src="${base}/graphiql.js"></script>
    <script src="${base}/init.js"></script>
  </body>
</html>
`;

/** GET /graphql/assets/<version>/<file>: immutable for a version, with ETag and gzip. */
export async function serveGraphiqlAsset(c: Context): Promise<Response> {
  const name = c.req.param('file');
  loading ??= loadAssets().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  const found = c.req.param('version') === version && name ? (await loading).get(name) : undefined;
  if (!found) throw new AppError('not_found', 'no such GraphiQL file');
  const headers = new Headers({
    'content-type': found.type,
    etag: found.etag,
    'cache-control': found.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    vary: 'accept-encoding',
  });
  if (
    c.req
      .header('if-none-match')
      ?.split(/\s*,\s*/)
      .includes(found.etag)
  ) {
    return new Response(null, { status: 304, headers });
  }
  const gzip = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
  if (gzip) headers.set('content-encoding', 'gzip');
  return new Response(gzip ? found.gzipped : found.body, { headers });
}

/** Whether a GET to /graphql asks for the page (a browser) rather than a query. */
export function wantsGraphiql(c: Context): boolean {
  return c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html');
}
