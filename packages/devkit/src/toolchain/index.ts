export { atLowPriority, buildIntoCache, type CachedBuild, shopCachePath } from './cache.ts';
export { resolveDaprd } from './daprd.ts';
export { type GoTool, resolveGoTool } from './go-tool.ts';
export { resolveTilt, tiltVersion } from './tilt.ts';
export { resolveVegeta, vegetaTool } from './vegeta.ts';
