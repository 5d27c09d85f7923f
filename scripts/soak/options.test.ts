import { describe, expect, it } from 'vitest';
import { parseMix, parseSoakArgs } from './options.ts';

const defaults = { broker: 'redis', stateStore: 'redis' };

describe('the soak command line', () => {
  it('runs ten minutes at 20/s on the default profile without chaos', () => {
    const options = parseSoakArgs([], defaults);
    expect(options).toMatchObject({
      minutes: 10,
      rate: 20,
      broker: 'redis',
      replicas: 1,
      chaosEverySeconds: null,
    });
  });

  it('takes chaos, replicas and a seed', () => {
    const options = parseSoakArgs(
      ['--chaos', '--chaos-every', '15', '--replicas', '2', '--seed', '42'],
      defaults,
    );
    expect(options).toMatchObject({ chaosEverySeconds: 15, replicas: 2, seed: 42 });
  });

  it('refuses a bad value by its name', () => {
    expect(() => parseSoakArgs(['--rate', 'fast'], defaults)).toThrow(/--rate/);
    expect(() => parseSoakArgs(['--broker', 'mqtt'], defaults)).toThrow(/--broker/);
    expect(() => parseSoakArgs(['--replicas', '9'], defaults)).toThrow(/--replicas/);
  });

  it('scales the shares of a mix to 1 and refuses unknown operations', () => {
    expect(parseMix('browse=3,checkout=1')).toEqual({ browse: 0.75, checkout: 0.25 });
    expect(() => parseMix('browse=1,dance=1')).toThrow(/dance/);
    expect(() => parseMix('browse=0')).toThrow(/all be 0/);
  });
});
