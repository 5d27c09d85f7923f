// components/common/subscriptions.yaml: which app receives which topic, at which route,
// and where an event goes when that app keeps failing it.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { eventCatalog } from '@shop/platform';
import { generatedHeader } from './header.ts';

export const subscriptionsFile = 'components/common/subscriptions.yaml';

const header = `# Declarative subscriptions: which app receives which topic, at which route, and where
# an event goes when that app keeps failing it (its own dead-letter topic, which the
# same app stores for inspection and replay under /admin/dead-letters).
${generatedHeader('#')}
`;

/**
 * Each consuming app (named by its folder under services/) and the event types its code
 * declares it consumes: the `consumes` export of services/<app>/src/events.ts, beside its
 * handlers. The manifests' `subscribes` must say the same.
 */
export async function declaredConsumers(repoRoot: string): Promise<Map<string, string[]>> {
  const servicesDir = join(repoRoot, 'services');
  const consumers = new Map<string, string[]>();
  const apps = readdirSync(servicesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  for (const app of apps) {
    const declaration = join(servicesDir, app, 'src/events.ts');
    if (!existsSync(declaration)) continue;
    const { consumes } = (await import(pathToFileURL(declaration).href)) as { consumes?: unknown };
    if (!consumes || typeof consumes !== 'object') {
      throw new Error(`services/${app}/src/events.ts exports no \`consumes\``);
    }
    const types = Object.keys(consumes).sort();
    const unknown = types.filter((type) => !Object.hasOwn(eventCatalog, type));
    if (unknown.length > 0) {
      throw new Error(`services/${app} consumes unknown event types: ${unknown.join(', ')}`);
    }
    if (types.length > 0) consumers.set(app, types);
  }
  return consumers;
}

function subscription(app: string, type: string): string {
  return `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: ${app}-${type.replaceAll(/[._]/g, '-')}
spec:
  pubsubname: pubsub
  topic: ${type}
  routes:
    default: /events/${type}
  deadLetterTopic: deadletter.${app}
scopes:
  - ${app}
`;
}

function deadLetterSubscription(app: string): string {
  return `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: ${app}-deadletter
spec:
  pubsubname: pubsub
  topic: deadletter.${app}
  routes:
    default: /dead-letters
scopes:
  - ${app}
`;
}

/**
 * The subscriptions file for these consumers (app -> event types): per app, one
 * subscription per type, dead-lettering to the app's own topic, and one for that topic.
 */
export function subscriptionsYaml(consumers: ReadonlyMap<string, readonly string[]>): string {
  const documents = [...consumers]
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([app, types]) => [
      ...[...types].sort().map((type) => subscription(app, type)),
      deadLetterSubscription(app),
    ]);
  return header + documents.join('---\n');
}

/** The subscriptions file as the services' code declares it. */
export async function renderSubscriptions(repoRoot: string): Promise<string> {
  return subscriptionsYaml(await declaredConsumers(repoRoot));
}
