import fc from 'fast-check';

/** A piece of JSON text sent as it is: numbers JSON.stringify cannot write, deep nesting. */
export class RawJson {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

/** JSON text for `value`, with each RawJson written verbatim and lone surrogates escaped. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const controls = [...Array(32).keys(), 0x7f, 0x85].map((code) => String.fromCharCode(code));
const loneSurrogates = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF'];

// One unit of hostile text: control characters and lone surrogates weighted up, beside any
// code point and plain ASCII.
const hostileUnit = fc.oneof(
  { weight: 2, arbitrary: fc.constant('\u0000') },
  { weight: 2, arbitrary: fc.constantFrom(...controls, ...loneSurrogates) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
);

const edgeNumbers = [
  '0',
  '-1',
  '-0',
  '0.5',
  '-2147483649',
  '2147483647',
  '2147483648',
  '4294967296',
  '9007199254740993',
  '1e21',
  '1e309',
  '-1e309',
  '123456789012345678901234567890',
  'NaN',
  'Infinity',
];

const edgeStrings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\u202Ethgir',
  '%00',
  '../../etc/passwd',
  "' or '1'='1",
  '<script>alert(1)</script>',
  'true',
  'null',
  '[]',
  '{}',
  '00000000-0000-0000-0000-000000000000',
  '1970-01-01T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
];

/** Strings meant to break a handler: controls, lone surrogates, numbers out of range, long ones. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: hostileUnit, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...edgeStrings, ...edgeNumbers) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => 'x'.repeat(n)) },
);

const deep = (depth: number, open: string, close: string) =>
  new RawJson(open.repeat(depth) + close.repeat(depth));

/** JSON values of every wrong kind: hostile strings, numbers no column holds, deep nesting. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 3, arbitrary: fc.constantFrom(...edgeNumbers.slice(0, -2)).map((n) => new RawJson(n)) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      deep(5_000, '[', ']'),
      deep(2_000, '{"a":', '}'),
      deep(64, '[', ']'),
    ),
  },
);

// The fields the shop's cursors carry (base64url JSON, see the platform's encodeCursor), so
// a forged one gets past decoding with values outside its columns' ranges.
const cursorFields = ['sort', 'price', 'rank', 'similarity', 'createdAt', 'id', 'seq', 'userId'];
const forgedCursor = fc
  .dictionary(
    fc.constantFrom(...cursorFields),
    fc.oneof(
      hostileJson,
      fc.constantFrom('price', '-price', 'newest', 'relevance'),
      fc.constant(new RawJson('"00000000-0000-4000-8000-000000000000"')),
    ),
    { minKeys: 2 },
  )
  .map((fields) => Buffer.from(toJsonText(fields)).toString('base64url'));

/** A path or query value as it goes on the wire: hostile text percent-encoded, or bad encodings. */
export const hostileUrlPart: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: forgedCursor },
  { weight: 6, arbitrary: hostileString.map((s) => encodeURIComponent(s.toWellFormed())) },
  { weight: 1, arbitrary: fc.constantFrom('%00', 'a%00b', '%0A', '%1B%5B0m', '%7F') },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%ff', '%ED%A0%80', '%C0%80', '%00%00') },
);

// Header values may hold tab, visible ASCII and Latin-1 bytes; nothing else crosses HTTP.
const headerUnit = fc.oneof(
  fc.constantFrom('\t', '\u0080', '\u00ff'),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
);

/** A header value as hostile as HTTP lets it be. */
export const hostileHeaderValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: headerUnit, maxLength: 300 }),
  fc.constantFrom('', '*', 'W/"1"', '"1"', '"-1"', '"99999999999999999999"'),
);
