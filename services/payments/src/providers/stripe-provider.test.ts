import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type RunningStripeMock, startStripeMock } from '@shop/devkit/infra';
import { freePorts } from '@shop/devkit/process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripePaymentProvider } from './stripe-provider.ts';

type SeenRequest = { method: string; path: string; headers: IncomingHttpHeaders; body: string };

/**
 * Passes requests on to `target` and keeps what arrived, so a test sees what the SDK put on
 * the wire (stripe-mock keeps nothing: it is stateless).
 */
async function recordingProxy(target: string) {
  const seen: SeenRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && name !== 'host' && name !== 'content-length')
        headers.set(name, value);
    }
    const answer = await fetch(`${target}${req.url}`, {
      method: req.method ?? 'GET',
      headers,
      ...(body ? { body } : {}),
    });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' });
    res.end(await answer.text());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// stripe-mock answers from fixtures; these are Stripe's own, with the PaymentIntent as a
// confirmed pm_card_visa leaves it (succeeded), where the bundled one needs a payment method.
const fixtures = fileURLToPath(new URL('./testdata/stripe-mock-fixtures.json', import.meta.url));

describe('the stripe provider against stripe-mock', () => {
  let stripeMock: RunningStripeMock | undefined;
  let proxy: Awaited<ReturnType<typeof recordingProxy>> | undefined;

  beforeAll(async () => {
    stripeMock = await startStripeMock({ fixtures });
    proxy = await recordingProxy(stripeMock.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await stripeMock?.stop();
  });

  const provider = () => {
    if (!proxy) throw new Error('stripe-mock is not running');
    return createStripePaymentProvider({ apiKey: 'sk_test_123', apiBase: proxy.url });
  };
  const lastSeen = () => proxy?.seen.at(-1);

  it('creates and confirms a PaymentIntent for the order, under its idempotency key', async () => {
    const orderId = crypto.randomUUID();
    const outcome = await provider().charge({
      orderId,
      amount: 2_500,
      currency: 'USD',
      paymentMethod: 'pm_card_visa',
      idempotencyKey: orderId,
    });

    expect(outcome).toEqual({ status: 'succeeded', providerRef: expect.stringMatching(/^pi_/) });
    const request = lastSeen();
    expect(request).toMatchObject({ method: 'POST', path: '/v1/payment_intents' });
    expect(request?.headers['idempotency-key']).toBe(orderId);
    expect(request?.headers.authorization).toBe('Bearer sk_test_123');
    const form = new URLSearchParams(request?.body);
    expect(Object.fromEntries(form)).toMatchObject({
      amount: '2500',
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: 'true',
      'metadata[orderId]': orderId,
    });
  });

  it('refunds against the PaymentIntent, under the refund’s own key', async () => {
    const outcome = await provider().refund({
      chargeRef: 'pi_123',
      amount: 2_500,
      idempotencyKey: 'order-1:refund',
    });

    expect(outcome).toEqual({ providerRef: expect.stringMatching(/^re_/) });
    const request = lastSeen();
    expect(request).toMatchObject({ method: 'POST', path: '/v1/refunds' });
    expect(request?.headers['idempotency-key']).toBe('order-1:refund');
    expect(Object.fromEntries(new URLSearchParams(request?.body))).toMatchObject({
      payment_intent: 'pi_123',
      amount: '2500',
    });
  });

  it('throws, for a later retry, when Stripe cannot be reached', async () => {
    // Just freed, so nothing listens there: the connection is refused.
    const [closedPort] = await freePorts(1);
    const unreachable = createStripePaymentProvider({
      apiKey: 'sk_test_123',
      apiBase: `http://127.0.0.1:${closedPort}`,
    });
    await expect(
      unreachable.charge({
        orderId: crypto.randomUUID(),
        amount: 100,
        currency: 'USD',
        paymentMethod: 'pm_card_visa',
        idempotencyKey: crypto.randomUUID(),
      }),
    ).rejects.toThrow();
  });
});
