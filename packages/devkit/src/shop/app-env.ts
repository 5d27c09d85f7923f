/**
 * The service variables a user sets for `npm start`: `SHOP_<APP>_<NAME>=value` gives the
 * app `<app>` (upper-cased, `-` as `_`) the variable `<NAME>`, and `SHOP_ALL_<NAME>` gives
 * it to every app, the app's own setting winning. Other variables are not passed on, so
 * the shop's own `SHOP_*` settings (SHOP_BROKER, SHOP_DATA_DIR, ...) never reach a service.
 *
 * @example
 * appEnvFromPrefixed({ SHOP_ORDERS_ORDER_TTL_SECONDS: '60' }, ['orders', 'users']);
 * // { orders: { ORDER_TTL_SECONDS: '60' } }
 */
export function appEnvFromPrefixed(
  env: Record<string, string | undefined>,
  appIds: readonly string[],
): Record<string, Record<string, string>> {
  const everyApp = variablesWithPrefix(env, 'SHOP_ALL_');
  const appEnv: Record<string, Record<string, string>> = {};
  for (const appId of appIds) {
    const prefix = `SHOP_${appId.toUpperCase().replaceAll('-', '_')}_`;
    const variables = { ...everyApp, ...variablesWithPrefix(env, prefix) };
    if (Object.keys(variables).length > 0) appEnv[appId] = variables;
  }
  return appEnv;
}

function variablesWithPrefix(env: Record<string, string | undefined>, prefix: string) {
  const variables: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && name.startsWith(prefix) && name.length > prefix.length) {
      variables[name.slice(prefix.length)] = value;
    }
  }
  return variables;
}

/** Merges per-app environments; a later one's variable wins. */
export function mergeAppEnv(
  ...layers: Array<Record<string, Record<string, string>>>
): Record<string, Record<string, string>> {
  const merged: Record<string, Record<string, string>> = {};
  for (const layer of layers) {
    for (const [appId, variables] of Object.entries(layer)) {
      merged[appId] = { ...merged[appId], ...variables };
    }
  }
  return merged;
}
