import { generatedHeader } from './header.ts';
import type { ServiceManifest } from './schema.ts';

export const daprRunFile = 'dapr.yaml';

const header = `${generatedHeader('#')}
# Dapr Multi-App Run file, for people who use the Dapr CLI (\`dapr run -f .\`).
# \`npm start\` reads this same file, so the two cannot drift apart; it assigns free ports
# itself (METRICS_PORT too), sets REDIS_HOST, makes a Redis password (REDIS_PASSWORD) and
# one pair of API tokens per app, and creates the local secrets file. With the CLI, export
# REDIS_HOST (e.g. localhost:6379 after \`dapr init\`), REDIS_PASSWORD if that Redis has one,
# APP_API_TOKEN and SHOP_SECRETS_FILE (a file made by \`npm run keys -- init <file>\`) before
# running. Each service serves /metrics only on its METRICS_PORT below, never its appPort.
# The preload instruments the database drivers when OTEL_EXPORTER_OTLP_ENDPOINT is set
# (traces go there over OTLP/HTTP) and does nothing otherwise.
version: 1
common:
  resourcesPaths:
    - ./components/common
    - ./components/redis
    - ./components/statestore/redis
    - ./components/local
  configFilePath: ./components/config.yaml
  appProtocol: http
  env:
    LOG_LEVEL: info
apps:
`;

function app({ appId, ports }: ServiceManifest): string {
  return `  - appID: ${appId}
    appDirPath: ./services/${appId}
    appPort: ${ports.app}
    daprHTTPPort: ${ports.daprHttp}
    command: ["node", "--import", "@shop/platform/tracing-preload", "src/main.ts"]
    env:
      METRICS_PORT: "${ports.metrics}"
`;
}

/** dapr.yaml: the Multi-App Run file `npm start` and the Dapr CLI both read. */
export function daprRunYaml(manifests: readonly ServiceManifest[]): string {
  return header + manifests.map(app).join('');
}
