export { down, up } from '../migrations/0001_init.ts';
