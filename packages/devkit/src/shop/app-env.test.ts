import { describe, expect, it } from 'vitest';
import { appEnvFromPrefixed, mergeAppEnv } from './app-env.ts';

const apps = ['gateway', 'orders', 'users'];

describe('appEnvFromPrefixed', () => {
  it('gives SHOP_<APP>_<NAME> to that app only', () => {
    const env = { SHOP_ORDERS_ORDER_TTL_SECONDS: '60', SHOP_GATEWAY_RATE_LIMIT_DEFAULT: '5/1s' };
    expect(appEnvFromPrefixed(env, apps)).toEqual({
      orders: { ORDER_TTL_SECONDS: '60' },
      gateway: { RATE_LIMIT_DEFAULT: '5/1s' },
    });
  });

  it('gives SHOP_ALL_<NAME> to every app, an app’s own setting winning', () => {
    const env = { SHOP_ALL_LOG_LEVEL: 'debug', SHOP_USERS_LOG_LEVEL: 'warn' };
    expect(appEnvFromPrefixed(env, apps)).toEqual({
      gateway: { LOG_LEVEL: 'debug' },
      orders: { LOG_LEVEL: 'debug' },
      users: { LOG_LEVEL: 'warn' },
    });
  });

  it('passes on none of the shop’s own settings nor anything unprefixed', () => {
    const env = {
      SHOP_BROKER: 'kafka',
      SHOP_DATA_DIR: '/tmp/x',
      LOG_LEVEL: 'debug',
      SHOP_ORDERS_: 'x',
    };
    expect(appEnvFromPrefixed(env, apps)).toEqual({});
  });
});

describe('mergeAppEnv', () => {
  it('lets a later layer win per variable and keeps the rest', () => {
    expect(
      mergeAppEnv({ users: { A: '1', B: '1' } }, { users: { B: '2' }, orders: { C: '3' } }),
    ).toEqual({ users: { A: '1', B: '2' }, orders: { C: '3' } });
  });
});
