export { eventually, startTestShop, type TestShop } from './shop.ts';
