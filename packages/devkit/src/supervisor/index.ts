// Until every import names its seam (@shop/devkit/<folder>), the old entry point re-exports them.
export * from '../brokers/index.ts';
export * from '../cluster/index.ts';
export * from '../images/index.ts';
export * from '../infra/index.ts';
export * from '../process/index.ts';
export * from '../shop/index.ts';
export * from '../toolchain/index.ts';
