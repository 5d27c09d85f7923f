import { describe, expect, it } from 'vitest';
import { inCI, MissingCapabilityError, skipWhenMissing, unlessMissing } from './capability.ts';

describe('unlessMissing', () => {
  it('runs the test when nothing is missing, under CI or not', () => {
    expect(unlessMissing(undefined, {})).toBe(false);
    expect(unlessMissing(undefined, { CI: 'true' })).toBe(false);
  });

  it('skips, naming the reason, when something is missing and CI is not set', () => {
    expect(unlessMissing('podman: not installed', {})).toBe(true);
    expect(unlessMissing('podman: not installed', { CI: 'false' })).toBe(true);
  });

  it('throws, naming the reason, when something is missing under CI', () => {
    expect(() => unlessMissing('podman: not installed', { CI: '1' })).toThrow(
      /CI is set: podman: not installed/,
    );
    expect(() => unlessMissing('runc', { CI: 'true' })).toThrow(MissingCapabilityError);
  });
});

describe('skipWhenMissing', () => {
  const recorder = () => {
    const notes: (string | undefined)[] = [];
    return { notes, skip: (note?: string) => void notes.push(note) };
  };

  it('skips the running test with the reason, or does nothing when nothing is missing', () => {
    const context = recorder();
    skipWhenMissing(context, undefined, {});
    skipWhenMissing(context, 'no base image', {});
    expect(context.notes).toEqual(['no base image']);
  });

  it('throws under CI instead of skipping', () => {
    const context = recorder();
    expect(() => skipWhenMissing(context, 'no base image', { CI: 'yes' })).toThrow(/no base image/);
    expect(context.notes).toEqual([]);
  });
});

describe('inCI', () => {
  it("reads CI as CI services set it, and '', '0' and 'false' as not set", () => {
    expect([{}, { CI: '' }, { CI: '0' }, { CI: 'false' }, { CI: 'FALSE' }].map(inCI)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect([{ CI: 'true' }, { CI: '1' }, { CI: 'woodpecker' }].map(inCI)).toEqual([
      true,
      true,
      true,
    ]);
  });
});
