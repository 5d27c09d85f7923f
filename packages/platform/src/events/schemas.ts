import { z } from 'zod';

/**
 * Every event's payload, versioned, in one place. A topic is named after its event type.
 * A breaking change adds a new version beside the old one; consumers accept both.
 */
export const eventSchemas = {
  'user.registered': {
    version: 1,
    data: z.object({
      userId: z.string().min(1),
      email: z.email(),
      name: z.string().min(1).max(100),
      registeredAt: z.iso.datetime(),
    }),
  },
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventSchemas)[T]['data']>;

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.hasOwn(eventSchemas, value);
}

export function dataSchemaUri(type: EventType): string {
  return `urn:shop:events:${type}:v${eventSchemas[type].version}`;
}
