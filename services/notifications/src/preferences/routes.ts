import { createRoute, z } from '@hono/zod-openapi';
import { bearerSecurity, createRouter, problemResponses } from '@shop/platform';
import type { NotificationsDb } from '../database.ts';
import { notificationTypes } from '../inbox/notification.ts';
import { type Preferences, preferencesOf, replacePreferences } from './repository.ts';

const channels = z
  .object({ inApp: z.boolean(), email: z.boolean() })
  .strict()
  .openapi('NotificationChannels');

const typeShape = <T extends z.ZodType>(value: T) =>
  Object.fromEntries(notificationTypes.map((type) => [type, value])) as Record<
    (typeof notificationTypes)[number],
    T
  >;

const preferences = z.object(typeShape(channels)).openapi('NotificationPreferences');

/** Every type may be given; one left out goes back to its default (both channels on). */
const preferencesChange = z
  .object(typeShape(channels.optional()))
  .strict()
  .openapi('NotificationPreferencesChange');

const getRoute = createRoute({
  method: 'get',
  path: '/',
  security: bearerSecurity,
  responses: {
    200: {
      description: 'per notification type, whether it goes to the inbox and by email',
      content: { 'application/json': { schema: preferences } },
    },
    ...problemResponses(401, 403),
  },
});

const putRoute = createRoute({
  method: 'put',
  path: '/',
  security: bearerSecurity,
  request: {
    body: { required: true, content: { 'application/json': { schema: preferencesChange } } },
  },
  responses: {
    200: {
      description: 'the preferences now in force',
      content: { 'application/json': { schema: preferences } },
    },
    ...problemResponses(400, 401, 403, 413),
  },
});

/** Mounted at /api/v1/notifications/preferences behind authenticate(). */
export function preferencesRoutes(deps: { db: NotificationsDb }) {
  return createRouter()
    .openapi(getRoute, async (c) => c.json(await preferencesOf(deps.db, c.get('user').id), 200))
    .openapi(putRoute, async (c) => {
      const given = c.req.valid('json');
      const chosen: Partial<Preferences> = Object.fromEntries(
        Object.entries(given).filter(([, value]) => value !== undefined),
      );
      return c.json(await replacePreferences(deps.db, c.get('user').id, chosen, new Date()), 200);
    });
}
