import type { DeadLetterStore } from '@shop/platform';
import type { Redis } from 'ioredis';

type DeadLetter = Parameters<DeadLetterStore['add']>[0];

export const deadLettersKey = 'gateway:dead-letters';

/**
 * Dead letters in the gateway's Redis, one hash field per event id, so every replica lists
 * the same ones and a restart loses none (the gateway has no database). An event
 * dead-lettered again replaces its earlier copy.
 */
export function redisDeadLetterStore(redis: Redis): DeadLetterStore {
  const parse = (text: string) => JSON.parse(text) as DeadLetter;
  return {
    async add(letter) {
      await redis.hset(
        deadLettersKey,
        letter.id,
        JSON.stringify({ ...letter, event: letter.event ?? null }),
      );
    },
    async list() {
      const letters = Object.values(await redis.hgetall(deadLettersKey)).map(parse);
      return letters.sort(
        (a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.id.localeCompare(b.id),
      );
    },
    async get(id) {
      const text = await redis.hget(deadLettersKey, id);
      return text === null ? undefined : parse(text);
    },
    async remove(id) {
      await redis.hdel(deadLettersKey, id);
    },
  };
}
