import { type ServerType, serve } from '@hono/node-server';
import { silentLogger, type TestShop } from '@shop/devkit/testing';
import { createServiceApp, type ServiceApp } from '../../http/app.ts';
import { createSidecar, type Sidecar } from '../sidecar.ts';

/**
 * A service app with only the routes `routes` adds, served on `port` for a sidecar the
 * test shop starts (daprd waits for its app's port). The app token it accepts is the one
 * that sidecar gets, known once the shop has started: `sidecarIn` takes it.
 */
export function serveBareApp(
  service: string,
  port: number,
  routes?: (app: ServiceApp) => void,
): { server: ServerType; sidecarIn(shop: TestShop): Sidecar } {
  let appApiToken = 'not-yet-known-0000000000';
  const app = createServiceApp({
    service,
    logger: silentLogger(service),
    get appApiToken() {
      return appApiToken;
    },
  });
  routes?.(app);
  const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
  return {
    server,
    sidecarIn(shop) {
      const started = shop.apps[service];
      if (!started) throw new Error(`the shop started no ${service} sidecar`);
      appApiToken = started.appApiToken;
      const config = {
        DAPR_HOST: '127.0.0.1',
        DAPR_HTTP_PORT: started.daprHttpPort,
        DAPR_API_TOKEN: started.daprApiToken,
      };
      return createSidecar(config, silentLogger(service));
    },
  };
}
