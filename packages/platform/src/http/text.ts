import { z } from '@hono/zod-openapi';

// C0 controls (NUL among them, which PostgreSQL refuses in text), DEL and C1 controls.
// Written as plain \u ranges without flags, because the pattern is published in the
// OpenAPI document, where clients and fuzzers (Schemathesis) read it with their own engines.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const singleLine = /^[^\u0000-\u001f\u007f-\u009f]*$/;
// The same, letting through tab, line feed and carriage return.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const multiLine = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$/;

// A surrogate standing alone cannot be written as UTF-8; it is refused apart from the
// pattern, which cannot say so portably.
const wellFormed = (value: string) => value.isWellFormed();

/**
 * Free text on one line, as a name, a title or a search query: no control characters
 * (U+0000–U+001F, U+007F–U+009F) and no lone surrogates. Chain length and trimming on it.
 *
 * @example
 * const registration = z.object({ name: singleLineText().trim().min(1).max(100) });
 */
export function singleLineText() {
  return z
    .string()
    .regex(singleLine, 'must not contain control characters')
    .refine(wellFormed, 'must not contain a lone surrogate');
}

/**
 * Free text that may run over lines, as a description or a review: like singleLineText,
 * but tab, line feed and carriage return are allowed.
 *
 * @example
 * const newProduct = z.object({ description: multilineText().max(5_000) });
 */
export function multilineText() {
  return z
    .string()
    .regex(multiLine, 'must not contain control characters other than tab and newline')
    .refine(wellFormed, 'must not contain a lone surrogate');
}
