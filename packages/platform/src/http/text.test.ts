import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { multilineText, singleLineText } from './text.ts';

const accepted = (schema: ReturnType<typeof singleLineText>, value: string) =>
  schema.safeParse(value).success;

describe('singleLineText', () => {
  it.each(['Ada Lovelace', 'Zoë 😀 日本', "O'Brien & co.", ''])('takes %j', (value) => {
    expect(accepted(singleLineText(), value)).toBe(true);
  });

  it.each([
    ['a NUL', 'a\u0000b'],
    ['a newline', 'a\nb'],
    ['a tab', 'a\tb'],
    ['an escape', '\u001b[31mred'],
    ['DEL', 'a\u007f'],
    ['a C1 control', 'a\u0085'],
    ['a lone high surrogate', 'a\uD800'],
    ['a lone low surrogate', '\uDC00b'],
  ])('refuses %s', (_, value) => {
    expect(accepted(singleLineText(), value)).toBe(false);
  });

  it('keeps the checks chained after it', () => {
    expect(singleLineText().trim().min(1).max(3).safeParse('  ab ').data).toBe('ab');
    expect(accepted(singleLineText().trim().min(1), '   ')).toBe(false);
  });
});

describe('multilineText', () => {
  it('takes tabs and line breaks', () => {
    expect(accepted(multilineText(), 'line one\r\n\tline two\n')).toBe(true);
  });

  it.each([
    ['a NUL', 'a\u0000b'],
    ['a vertical tab', 'a\u000bb'],
    ['DEL', 'a\u007f'],
    ['a lone surrogate', 'a\uDBFF'],
  ])('refuses %s', (_, value) => {
    expect(accepted(multilineText(), value)).toBe(false);
  });
});

describe('the published pattern', () => {
  // Clients and fuzzers read it with engines of their own (Python's re for Schemathesis):
  // no \p classes, no flags, and it still refuses what the schema refuses.
  it.each([
    ['single line', singleLineText()],
    ['multiline', multilineText()],
  ])('of %s text is portable', (_, schema) => {
    const { pattern } = z.toJSONSchema(schema) as { pattern: string };
    expect(pattern).not.toMatch(/\\p\{|\/[a-z]*$/);
    expect(new RegExp(pattern).test('a\u0000b')).toBe(false);
    expect(new RegExp(pattern).test('Zoë 😀')).toBe(true);
  });
});
