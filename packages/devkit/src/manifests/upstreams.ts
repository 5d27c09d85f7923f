import { generatedHeader } from './header.ts';
import { upstreamTable } from './routes.ts';
import type { ServiceManifest } from './schema.ts';

export const upstreamsFile = 'services/gateway/src/proxy/upstreams.generated.ts';

/** The gateway's route table as a TypeScript module upstreams.ts imports. */
export function upstreamsModule(manifests: readonly ServiceManifest[]): string {
  const rows = upstreamTable(manifests).map(
    ({ route, appId, access }) =>
      `  { route: '${route}', appId: '${appId}', access: '${access}' },`,
  );
  return `${generatedHeader('//')}
import type { Upstream } from './upstreams.ts';

/** Each service's public routes, longest first (services/<name>/service.json \`routes\`). */
export const upstreamTable: readonly Upstream[] = [
${rows.join('\n')}
];
`;
}
