// components/common/subscriptions.yaml is generated from the events each service declares
// beside its handlers; this fails when the two disagree (run `npm run subscriptions`).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderSubscriptions, subscriptionsFile } from '@shop/devkit/manifests';
import { findRepoRoot } from '@shop/devkit/process';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const repoRoot = findRepoRoot(import.meta.dirname);
const scratch = mkdtempSync(join(tmpdir(), 'shop-subscriptions-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('subscriptions.yaml', () => {
  it('is what the services declare they consume', async () => {
    const written = readFileSync(join(repoRoot, subscriptionsFile), 'utf8');
    expect(written).toBe(await renderSubscriptions(repoRoot));
  });

  it('subscribes each consumer per type, dead-lettering to its own topic', async () => {
    const declare = (app: string, source: string) => {
      mkdirSync(join(scratch, 'services', app, 'src'), { recursive: true });
      writeFileSync(join(scratch, 'services', app, 'src/events.ts'), source);
    };
    declare('mailer', `export const consumes = { 'user.registered': [1] };\n`);
    mkdirSync(join(scratch, 'services/quiet/src'), { recursive: true });
    const documents = parseAllDocuments(await renderSubscriptions(scratch)).map((d) => d.toJS());
    expect(documents).toEqual([
      {
        apiVersion: 'dapr.io/v2alpha1',
        kind: 'Subscription',
        metadata: { name: 'mailer-user-registered' },
        spec: {
          pubsubname: 'pubsub',
          topic: 'user.registered',
          routes: { default: '/events/user.registered' },
          deadLetterTopic: 'deadletter.mailer',
        },
        scopes: ['mailer'],
      },
      {
        apiVersion: 'dapr.io/v2alpha1',
        kind: 'Subscription',
        metadata: { name: 'mailer-deadletter' },
        spec: {
          pubsubname: 'pubsub',
          topic: 'deadletter.mailer',
          routes: { default: '/dead-letters' },
        },
        scopes: ['mailer'],
      },
    ]);
  });

  it('refuses a declaration naming an event type the catalog lacks', async () => {
    const root = mkdtempSync(join(scratch, 'unknown-'));
    mkdirSync(join(root, 'services/mailer/src'), { recursive: true });
    writeFileSync(
      join(root, 'services/mailer/src/events.ts'),
      `export const consumes = { 'user.vanished': [1] };\n`,
    );
    await expect(renderSubscriptions(root)).rejects.toThrow('unknown event types: user.vanished');
  });
});
