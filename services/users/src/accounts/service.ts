import { randomUUID } from 'node:crypto';
import { AppError, buildEvent, type Logger, type Sidecar } from '@shop/platform';
import { hashPassword } from './password.ts';
import type { Role, User, UserRepository } from './repository.ts';

export type AccountsDeps = {
  users: UserRepository;
  sidecar: Pick<Sidecar, 'publish'>;
  logger: Logger;
};

export type PublicUser = { id: string; email: string; name: string; role: Role; createdAt: string };

export function toPublicUser(user: User): PublicUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
  };
}

export async function registerUser(
  deps: AccountsDeps,
  input: { email: string; password: string; name: string },
  role: Role = 'customer',
): Promise<PublicUser> {
  const user: User = {
    id: randomUUID(),
    email: input.email,
    name: input.name,
    role,
    passwordHash: await hashPassword(input.password),
    createdAt: new Date(),
  };
  if ((await deps.users.insert(user)) === 'email_taken') {
    throw new AppError('conflict', 'that email is already registered');
  }
  const event = buildEvent(
    'user.registered',
    {
      userId: user.id,
      email: user.email,
      name: user.name,
      registeredAt: user.createdAt.toISOString(),
    },
    { source: 'users' },
  );
  try {
    await deps.sidecar.publish(event);
  } catch (error) {
    // Until the outbox lands, an account whose event could not be sent is undone.
    await deps.users.remove(user.id);
    deps.logger.error('registration rolled back: event not published', { error });
    throw new AppError('upstream_unavailable', 'registration is unavailable; try again shortly');
  }
  deps.logger.info('user registered', { userId: user.id, role });
  return toPublicUser(user);
}

/** Makes sure the configured admin exists; safe to run at every start. */
export async function ensureAdmin(
  deps: AccountsDeps,
  credentials: { email: string; password: string },
): Promise<void> {
  const email = credentials.email.trim().toLowerCase();
  if (await deps.users.findByEmail(email)) return;
  await registerUser(
    deps,
    { email, password: credentials.password, name: 'Administrator' },
    'admin',
  );
}
