import fc from 'fast-check';

/** A JSON Schema as an OpenAPI 3.1 document holds it. */
export type Schema = Record<string, unknown>;

type Components = { components?: { schemas?: Record<string, Schema> } };

const refPrefix = '#/components/schemas/';

/** The schema itself, with a reference into components/schemas followed. */
export function resolveSchema(document: Components, schema: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith(refPrefix)) return schema;
  return document.components?.schemas?.[ref.slice(refPrefix.length)] ?? {};
}

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

function stringOf(schema: Schema): fc.Arbitrary<string> {
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc
        .date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true })
        .map((d) => d.toISOString());
    case 'email':
      return fc.emailAddress();
  }
  const minLength = num(schema.minLength) ?? 0;
  const maxLength = Math.max(minLength, Math.min(num(schema.maxLength) ?? 30, 30));
  if (typeof schema.pattern === 'string') {
    return fc
      .stringMatching(new RegExp(schema.pattern))
      .filter((s) => s.length >= minLength && s.length <= (num(schema.maxLength) ?? s.length));
  }
  return fc.string({ minLength, maxLength });
}

function integerOf(schema: Schema): fc.Arbitrary<number> {
  const min = num(schema.minimum) ?? (num(schema.exclusiveMinimum) ?? -1_000_001) + 1;
  const max = num(schema.maximum) ?? (num(schema.exclusiveMaximum) ?? 1_000_001) - 1;
  return fc.integer({
    min: Math.max(min, Number.MIN_SAFE_INTEGER),
    max: Math.min(max, Number.MAX_SAFE_INTEGER),
  });
}

function objectOf(document: Components, schema: Schema, depth: number) {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  const fields = Object.fromEntries(
    Object.entries(properties).map(([name, property]) => [
      name,
      plausibleValue(document, property, depth + 1),
    ]),
  );
  return fc.record(fields, { requiredKeys: required.filter((name) => name in fields) });
}

/**
 * Values `schema` is likely to take, so a request often gets past validation and deeper
 * into a handler: the format's values (uuid, date-time, email), the enum's members,
 * numbers within the bounds, strings matching the pattern, objects with their required
 * fields. Not exact: a value it makes may still be refused, which is fine for a fuzzer.
 */
export function plausibleValue(
  document: Components,
  given: Schema,
  depth = 0,
): fc.Arbitrary<unknown> {
  const schema = resolveSchema(document, given);
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  if ('const' in schema) return fc.constant(schema.const);
  const variants = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (variants && variants.length > 0) {
    return fc.oneof(...variants.map((v) => plausibleValue(document, v, depth)));
  }
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type];
  if (types.length > 1) {
    return fc.oneof(...types.map((type) => plausibleValue(document, { ...schema, type }, depth)));
  }
  switch (types[0]) {
    case 'string':
      return stringOf(schema);
    case 'integer':
      return integerOf(schema);
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: num(schema.minimum) });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      if (depth > 4) return fc.constant([]);
      const item = plausibleValue(document, (schema.items ?? {}) as Schema, depth + 1);
      const minLength = num(schema.minItems) ?? 0;
      return fc.array(item, { minLength, maxLength: Math.max(minLength, 5) });
    }
    case 'object':
      return depth > 4 ? fc.constant({}) : objectOf(document, schema, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}
