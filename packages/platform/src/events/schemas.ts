import { z } from 'zod';

/**
 * Event types, each with the payload schema of every version still in use and the version
 * producers publish now. A breaking change adds a version beside the old ones and makes it
 * current; a version goes only when no consumer declares it any more.
 */
export type EventCatalog = {
  readonly [type: string]: {
    readonly current: number;
    readonly versions: { readonly [version: number]: z.ZodType };
  };
};

/**
 * The shop's events, in one place. A topic is named after its event type.
 */
export const eventCatalog = {
  'user.registered': {
    current: 1,
    versions: {
      1: z.object({
        userId: z.string().min(1),
        email: z.email(),
        name: z.string().min(1).max(100),
        registeredAt: z.iso.datetime(),
      }),
    },
  },
} as const satisfies EventCatalog;

export type ShopCatalog = typeof eventCatalog;

export type EventType<C extends EventCatalog = ShopCatalog> = keyof C & string;

export type EventVersion<
  T extends EventType<C>,
  C extends EventCatalog = ShopCatalog,
> = keyof C[T]['versions'] & number;

export type CurrentVersion<
  T extends EventType<C>,
  C extends EventCatalog = ShopCatalog,
> = C[T]['current'] & EventVersion<T, C>;

export type EventData<
  T extends EventType<C>,
  V extends EventVersion<T, C>,
  C extends EventCatalog = ShopCatalog,
> = z.output<C[T]['versions'][V]>;

/** The CloudEvents `dataschema` naming one version of one type. */
export type DataSchemaUri<T extends string, V extends number> = `urn:shop:events:${T}:v${V}`;

export function dataSchemaUri<T extends string, V extends number>(
  type: T,
  version: V,
): DataSchemaUri<T, V> {
  return `urn:shop:events:${type}:v${version}`;
}

const dataSchemaPattern = /^urn:shop:events:(?<type>[a-z0-9.-]+):v(?<version>[1-9][0-9]*)$/;

/** The type and version a `dataschema` names, or undefined when it names none in the catalog. */
export function versionNamedBy(
  catalog: EventCatalog,
  uri: string,
): { type: string; version: number } | undefined {
  const groups = dataSchemaPattern.exec(uri)?.groups;
  if (!groups?.type || !groups.version) return undefined;
  const version = Number(groups.version);
  const entry = Object.hasOwn(catalog, groups.type) ? catalog[groups.type] : undefined;
  if (!entry || !Object.hasOwn(entry.versions, version)) return undefined;
  return { type: groups.type, version };
}
