import { z } from '@hono/zod-openapi';

// \p{Cc}: C0 controls (NUL among them, which PostgreSQL refuses in text), DEL and C1 controls.
// \p{Cs} under the u flag: a surrogate standing alone, which no encoder can write as UTF-8.
const singleLine = /^[^\p{Cc}\p{Cs}]*$/u;
// The same, letting through tab, line feed and carriage return.
const multiLine = /^(?:[^\p{Cc}\p{Cs}]|[\t\n\r])*$/u;

/**
 * Free text on one line, as a name, a title or a search query: no control characters
 * (U+0000–U+001F, U+007F–U+009F) and no lone surrogates. Chain length and trimming on it.
 *
 * @example
 * const registration = z.object({ name: singleLineText().trim().min(1).max(100) });
 */
export function singleLineText() {
  return z.string().regex(singleLine, 'must not contain control characters');
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
    .regex(multiLine, 'must not contain control characters other than tab and newline');
}
