import { describeOperationFuzz } from '@shop/devkit/testing';
import { beforeAll, describe } from 'vitest';
import { useCartApp } from './test-support.ts';

describe('cart', () => {
  const cart = useCartApp();
  const tokens: string[] = [];
  beforeAll(async () => {
    tokens.push((await cart.newUser()).token, (await cart.newUser()).token);
  });
  describeOperationFuzz({
    subject: () => ({ app: cart.get(), appApiToken: cart.appApiToken, tokens }),
  });
});
