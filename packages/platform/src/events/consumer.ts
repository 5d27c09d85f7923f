import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { Counter, type Registry } from 'prom-client';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { handleInSpan } from '../tracing/consumer-spans.ts';
import { parseEvent, type ReceivedEvent } from './cloud-event.ts';
import {
  type EventCatalog,
  type EventType,
  type EventVersion,
  eventCatalog,
  type ShopCatalog,
} from './schemas.ts';

/** What a consumer tells Dapr: done, try again later, or give up (Dapr then dead-letters it). */
export type Delivery = 'SUCCESS' | 'RETRY' | 'DROP';

/**
 * The event types a consumer takes, each with the versions it accepts (at least one).
 * Declared beside the handlers, in a module without side effects, so that
 * `npm run subscriptions` can read it and subscribe the app to exactly these topics.
 */
export type ConsumedEvents<C extends EventCatalog = ShopCatalog> = {
  readonly [T in EventType<C>]?: readonly [EventVersion<T, C>, ...EventVersion<T, C>[]];
};

/** One handler for each declared type, receiving exactly the versions declared for it. */
export type EventHandlers<
  Consumes extends ConsumedEvents<C>,
  C extends EventCatalog = ShopCatalog,
> = {
  -readonly [T in keyof Consumes & EventType<C>]-?: (
    event: ReceivedEvent<T, NonNullable<Consumes[T]>[number], C>,
  ) => Promise<Delivery>;
};

/** A consumer's declaration and handlers, checked against each other; see defineConsumer. */
export type EventConsumerDefinition = {
  readonly catalog: EventCatalog;
  readonly consumes: { readonly [type: string]: readonly number[] | undefined };
  readonly handlers: {
    readonly [type: string]:
      | ((event: ReceivedEvent<string, number, EventCatalog>) => Promise<Delivery>)
      | undefined;
  };
};

/**
 * Pairs the events a consumer declares with its handlers: the type checker refuses a
 * declared type without a handler and a handler for a type not declared, and each handler
 * receives a union of the versions declared for its type. `catalog` is the shop's unless a
 * test brings its own.
 *
 * @example
 * export const consumes = { 'user.registered': [1] } as const satisfies ConsumedEvents;
 * const definition = defineConsumer({ consumes, handlers: { 'user.registered': async (event) => 'SUCCESS' } });
 */
export function defineConsumer<
  const Consumes extends ConsumedEvents<C>,
  Handlers extends EventHandlers<Consumes, C>,
  C extends EventCatalog = ShopCatalog,
>(definition: {
  consumes: Consumes;
  // Handlers is inferred from the map as given, so a handler for an undeclared type is
  // refused even where excess-property checks do not reach (a spread of a feature's map).
  handlers: Handlers & { [Undeclared in Exclude<keyof Handlers, keyof Consumes>]: never };
  catalog?: C;
}): EventConsumerDefinition {
  return {
    catalog: definition.catalog ?? eventCatalog,
    consumes: definition.consumes,
    // Each handler was checked against its declared versions above, and dispatch calls it
    // only with an event of one of them, so the erased signature is never widened in use.
    handlers: definition.handlers as unknown as EventConsumerDefinition['handlers'],
  };
}

export type DeadLetter = {
  id: string;
  type: string;
  receivedAt: string;
  event: unknown;
};

/** Where a consumer keeps undeliverable events until someone inspects or replays them. */
export type DeadLetterStore = {
  add(letter: DeadLetter): Promise<void>;
  list(): Promise<DeadLetter[]>;
  get(id: string): Promise<DeadLetter | undefined>;
  remove(id: string): Promise<void>;
};

export function createMemoryDeadLetterStore(): DeadLetterStore {
  const letters = new Map<string, DeadLetter>();
  return {
    add: async (letter) => void letters.set(letter.id, letter),
    list: async () => [...letters.values()],
    get: async (id) => letters.get(id),
    remove: async (id) => void letters.delete(id),
  };
}

// An operator inspects and replays through this app's own sidecar (its Dapr API token),
// which names no other caller; another app invoking these routes is refused.
const onlyOwnSidecar = (appId: string) =>
  createMiddleware(async (c, next) => {
    const caller = c.req.header('dapr-caller-app-id');
    if (caller && caller !== appId) {
      throw new AppError('forbidden', "only this app's own sidecar may call here");
    }
    await next();
  });

// Deliveries come from the sidecar's subscriptions, which name no calling app; anything
// that does came through service invocation and is no delivery.
const onlyDeliveries = createMiddleware(async (c, next) => {
  if (c.req.header('dapr-caller-app-id')) {
    throw new AppError('forbidden', 'events arrive through subscriptions, not invocation');
  }
  await next();
});

type Handler = NonNullable<EventConsumerDefinition['handlers'][string]>;
type Received = ReceivedEvent<string, number, EventCatalog>;

/** The handler for a valid event, or undefined (logged) when this app will not take it. */
function handlerFor(
  definition: EventConsumerDefinition,
  event: Received,
  route: string | undefined,
  logger: Logger,
): Handler | undefined {
  if (route && route !== event.type) {
    logger.warn('event on the wrong route', { eventId: event.id, type: event.type, route });
    return undefined;
  }
  const handler = definition.handlers[event.type];
  const accepted = definition.consumes[event.type];
  const rejected = (reason: string, fields: Record<string, unknown> = {}) => {
    logger.warn('event rejected', { reason, eventId: event.id, type: event.type, ...fields });
    return undefined;
  };
  if (!handler || !accepted) return rejected('this app does not consume this type');
  if (!accepted.includes(event.version)) {
    const takes = accepted.map((v) => `v${v}`).join(', ');
    return rejected(`version ${event.version} not accepted; this app takes ${takes}`, {
      dataschema: event.dataschema,
    });
  }
  return handler;
}

/** Validates one delivery and runs its handler: a handler that throws asks for a retry. */
async function dispatch(
  definition: EventConsumerDefinition,
  logger: Logger,
  body: unknown,
  route?: string,
): Promise<Delivery> {
  const parsed = parseEvent(body, definition.catalog);
  if (!parsed.ok) {
    logger.warn('event rejected', { reason: parsed.reason, eventId: parsed.id, type: parsed.type });
    return 'DROP';
  }
  const { event } = parsed;
  const handler = handlerFor(definition, event, route, logger);
  if (!handler) return 'DROP';
  try {
    // Logged inside the consumer span, so the line carries the publisher's trace id.
    return await handleInSpan(event, async () => {
      const delivery = await handler(event);
      logger.info('event handled', { eventId: event.id, type: event.type, delivery });
      return delivery;
    });
  } catch (error) {
    logger.error('event handler failed; asking for redelivery', {
      eventId: event.id,
      type: event.type,
      error,
    });
    return 'RETRY';
  }
}

async function readBody(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    return undefined;
  }
}

/** Whatever Dapr dead-lettered, kept under its own id and type when it has them. */
function deadLetterOf(body: unknown): DeadLetter {
  const parsed = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const id = typeof parsed.id === 'string' ? parsed.id : crypto.randomUUID();
  const type = typeof parsed.type === 'string' ? parsed.type : 'unknown';
  return { id, type, receivedAt: new Date().toISOString(), event: body };
}

type ConsumerMetrics = {
  handled(body: unknown, delivery: Delivery): void;
  deadLettered(type: string): void;
};

/** The counter named `name` on `registry`, made once even if an app consumes twice. */
function counterOn(registry: Registry, name: string, help: string, labelNames: string[]) {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/**
 * `events_handled_total{type,outcome}` and `events_dead_lettered_total{type}`. A type this
 * app does not consume is counted as `unknown`, so a malformed body adds no series.
 */
function consumerMetrics(
  registry: Registry | undefined,
  definition: EventConsumerDefinition,
): ConsumerMetrics {
  if (!registry) return { handled: () => {}, deadLettered: () => {} };
  const handled = counterOn(
    registry,
    'events_handled_total',
    'Event deliveries by type and what the consumer answered Dapr (success, retry, drop)',
    ['type', 'outcome'],
  );
  const deadLettered = counterOn(
    registry,
    'events_dead_lettered_total',
    'Events Dapr gave up on and this consumer stored as dead letters',
    ['type'],
  );
  const typeLabel = (type: unknown) =>
    typeof type === 'string' && Object.hasOwn(definition.consumes, type) ? type : 'unknown';
  return {
    handled: (body, delivery) => {
      const type = body && typeof body === 'object' ? (body as { type?: unknown }).type : undefined;
      handled.inc({ type: typeLabel(type), outcome: delivery.toLowerCase() });
    },
    deadLettered: (type) => deadLettered.inc({ type: typeLabel(type) }),
  };
}

/**
 * The routes Dapr delivers events to (`POST /events/{type}`, from declarative
 * subscriptions), the dead-letter sink (`POST /dead-letters`), and the admin routes to
 * inspect and replay dead letters. Each delivery answers SUCCESS, RETRY or DROP explicitly:
 * an invalid event (no `time`, a `dataschema` naming no known version, a payload that fails
 * that version's schema) or a version the definition does not accept is dropped to the
 * dead-letter topic; a handler that throws is retried.
 *
 * @example
 * app.route('/', createEventConsumer({ appId: 'notifications', logger, deadLetters, definition: defineConsumer({ consumes, handlers }) }));
 */
export function createEventConsumer(options: {
  /** This app's Dapr id: only its own sidecar's callers may use the admin routes. */
  appId: string;
  logger: Logger;
  definition: EventConsumerDefinition;
  deadLetters: DeadLetterStore;
  /** Where the delivery and dead-letter counters go (the app's registry); none when unset. */
  registry?: Registry;
}) {
  const { logger, deadLetters, definition } = options;
  const metrics = consumerMetrics(options.registry, definition);
  return new Hono()
    .use('/events/*', onlyDeliveries)
    .use('/dead-letters', onlyDeliveries)
    .use('/admin/*', onlyOwnSidecar(options.appId))
    .post('/events/:type', async (c) => {
      const body = await readBody(c.req.raw);
      const status = await dispatch(definition, logger, body, c.req.param('type'));
      metrics.handled(body, status);
      return c.json({ status });
    })
    .post('/dead-letters', async (c) => {
      const letter = deadLetterOf(await readBody(c.req.raw));
      await deadLetters.add(letter);
      metrics.deadLettered(letter.type);
      logger.warn('event dead-lettered', { eventId: letter.id, type: letter.type });
      return c.json({ status: 'SUCCESS' satisfies Delivery });
    })
    .get('/admin/dead-letters', async (c) => c.json({ items: await deadLetters.list() }))
    .post('/admin/dead-letters/:id/replay', async (c) => {
      const letter = await deadLetters.get(c.req.param('id'));
      if (!letter) throw new AppError('not_found', 'no dead letter with that id');
      const delivery = await dispatch(definition, logger, letter.event);
      metrics.handled(letter.event, delivery);
      if (delivery === 'SUCCESS') await deadLetters.remove(letter.id);
      return c.json({ id: letter.id, delivery });
    });
}
