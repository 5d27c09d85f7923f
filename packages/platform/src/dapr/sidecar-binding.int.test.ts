import type { ServerType } from '@hono/node-server';
import { freePorts } from '@shop/devkit/process';
import { startTestShop, type TestShop } from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from './sidecar.ts';
import { serveBareApp } from './testdata/bare-app.ts';

// invokeBinding against a real daprd, through the `email` binding (bindings.smtp,
// components/common/email.yaml) that the supervisor points at its private mailpit. The
// binding is scoped to notifications, so the probe app takes that app id.
let shop: TestShop;
let server: ServerType;
let sidecar: Sidecar;

type Found = { messages: Array<{ ID: string; Subject: string; From: { Address: string } }> };

async function mailsTo(address: string): Promise<Found['messages']> {
  const url = `${shop.mailpit?.apiUrl}/api/v1/search?query=${encodeURIComponent(`to:${address}`)}`;
  return ((await (await fetch(url)).json()) as Found).messages;
}

beforeAll(async () => {
  const [port] = (await freePorts(1)) as [number];
  const app = serveBareApp('notifications', port);
  server = app.server;
  shop = await startTestShop({
    apps: [],
    sidecarsOnly: [{ appId: 'notifications', appPort: port }],
  });
  sidecar = app.sidecarIn(shop);
});

afterAll(async () => {
  await shop?.stop();
  server?.close();
});

describe('output bindings through the sidecar', () => {
  it('sends a mail through the SMTP binding with the sender, recipient and subject given', async () => {
    const to = `ada-${crypto.randomUUID()}@example.com`;
    await sidecar.invokeBinding('email', 'create', '<p>Hello <b>Ada</b> – ünïcode</p>', {
      emailFrom: 'shop@example.com',
      emailTo: to,
      subject: 'Hello there',
    });
    const [mail, ...others] = await mailsTo(to);
    expect(others).toEqual([]);
    expect(mail).toMatchObject({ Subject: 'Hello there', From: { Address: 'shop@example.com' } });
    const full = (await (
      await fetch(`${shop.mailpit?.apiUrl}/api/v1/message/${mail?.ID}`)
    ).json()) as {
      HTML: string;
    };
    expect(full.HTML.trim()).toBe('<p>Hello <b>Ada</b> – ünïcode</p>');
  });

  it('throws when the binding does not exist, and when the mail server is down', async () => {
    await expect(sidecar.invokeBinding('no-such-binding', 'create', 'x')).rejects.toThrow(
      /binding no-such-binding create failed/,
    );
    await shop.kill('mailpit');
    try {
      const to = `down-${crypto.randomUUID()}@example.com`;
      await expect(
        sidecar.invokeBinding('email', 'create', 'x', {
          emailFrom: 'shop@example.com',
          emailTo: to,
          subject: 'lost?',
        }),
      ).rejects.toThrow(/binding email create failed: 500/);
    } finally {
      await shop.restart('mailpit');
    }
  });
});
