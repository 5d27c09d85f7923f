export { startPostgres, type TestPostgres } from './postgres.ts';
export { eventually, startTestShop, type TestShop } from './shop.ts';
export { createTestTokens, testTokenSettings } from './tokens.ts';
export { viaSidecar } from './via-sidecar.ts';
