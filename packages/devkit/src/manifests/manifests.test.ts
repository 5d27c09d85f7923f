import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { accessControl, chartValuesYaml, withKafkaTopicList } from './chart.ts';
import { manifestProblems } from './check.ts';
import { daprRunYaml } from './dapr-yaml.ts';
import { generatedNote } from './header.ts';
import { parseManifest } from './load.ts';
import { resiliencyYaml } from './resiliency.ts';
import { routeConflicts, routeMethod, upstreamTable } from './routes.ts';
import type { ServiceManifest } from './schema.ts';
import { subscriptionsYaml } from './subscriptions.ts';

let nextPort = 4000;
function manifest(appId: string, fields: Partial<ServiceManifest> = {}): ServiceManifest {
  const port = nextPort++;
  return {
    appId,
    ports: { app: port, daprHttp: port + 1000, metrics: port + 2000 },
    storage: 'none',
    exposed: false,
    routes: [],
    invokes: {},
    publishes: [],
    subscribes: [],
    secretStoreReads: [],
    ...fields,
  };
}

const gateway = manifest('gateway', {
  exposed: true,
  invokes: { shelf: ['POST /internal/batch'] },
});
const shelf = manifest('shelf', {
  storage: 'postgres',
  routes: [
    { path: '/api/v1/shelves', access: 'optional' },
    { path: '/api/v1/shelves/*/books', access: 'required' },
  ],
  publishes: ['shelf.filled'],
});
const reader = manifest('reader', {
  subscribes: ['shelf.filled'],
  invokes: { shelf: ['GET /internal/shelves/**'] },
});
const shop = [gateway, shelf, reader];
const code = {
  catalog: { 'shelf.filled': { producer: 'shelf' } },
  consumers: new Map([['reader', ['shelf.filled']]]),
};

describe('a service manifest', () => {
  it('is refused with the file and each problem named', () => {
    const text = JSON.stringify({ appId: 'Shelf', ports: { app: 1 }, storage: 'sqlite', extra: 1 });
    const error = (() => {
      try {
        parseManifest(text, 'services/shelf/service.json');
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(error).toMatch(/^services\/shelf\/service\.json: /);
    for (const path of ['appId', 'ports.daprHttp', 'storage', '(root)'])
      expect(error).toContain(path);
    expect(() => parseManifest('{', 'x.json')).toThrow('x.json: not JSON');
  });

  it('takes defaults for what a quiet service leaves out', () => {
    const parsed = parseManifest(
      JSON.stringify({
        appId: 'quiet',
        ports: { app: 1, daprHttp: 2, metrics: 3 },
        storage: 'none',
      }),
      'quiet',
    );
    expect(parsed).toMatchObject({ exposed: false, routes: [], invokes: {}, subscribes: [] });
  });

  it('refuses an invocation that is not "VERB /path"', () => {
    const bad = JSON.stringify({ ...manifest('a'), invokes: { b: ['FETCH /x'] } });
    expect(() => parseManifest(bad, 'a')).toThrow('invokes.b.0');
  });
});

describe('the routes', () => {
  it('go to the gateway longest first, so a nested route wins', () => {
    expect(upstreamTable(shop).map((u) => u.route)).toEqual([
      '/api/v1/shelves/*/books',
      '/api/v1/shelves',
    ]);
  });

  it('may not overlap at the same length, where longest-first cannot choose', () => {
    expect(routeConflicts(shop)).toEqual([]);
    const clash = manifest('clash', {
      routes: [{ path: '/api/v1/*/*/books', access: 'none' }],
    });
    const twin = manifest('twin', { routes: [{ path: '/api/v1/*', access: 'none' }] });
    expect(routeConflicts([...shop, clash, twin])).toEqual([
      'route /api/v1/shelves/*/books (shelf) overlaps /api/v1/*/*/books (clash)',
      'route /api/v1/shelves (shelf) overlaps /api/v1/* (twin)',
    ]);
  });

  it("open what lies below them in the callee's access control", () => {
    expect(routeMethod({ path: '/api/v1/shelves' })).toBe('* /api/v1/shelves/**');
    expect(routeMethod({ path: '/api/v1/shelves/*/books' })).toBe('* /api/v1/shelves/**');
    expect(routeMethod({ path: '/.well-known/jwks.json', exact: true })).toBe(
      '* /.well-known/jwks.json',
    );
  });
});

describe('the cross-checks', () => {
  it('find nothing wrong with a sound shop', () => {
    expect(manifestProblems(shop, code)).toEqual([]);
  });

  it('name an invoked app that does not exist, and a clash of ports', () => {
    const lost = manifest('lost', { invokes: { nowhere: ['GET /x'] } });
    const twin = { ...manifest('twin'), ports: { ...gateway.ports } };
    expect(manifestProblems([...shop, lost, twin], code)).toEqual([
      "twin: ports.app 4000 is already gateway app's",
      "twin: ports.daprHttp 5000 is already gateway daprHttp's",
      "twin: ports.metrics 6000 is already gateway metrics's",
      'lost invokes nowhere, which has no services/nowhere/service.json',
    ]);
  });

  it('want one exposed app to forward the routes', () => {
    const hidden = { ...gateway, exposed: false };
    expect(manifestProblems([hidden, shelf, reader], code)).toEqual([
      'services have public routes but no service is exposed to forward them',
    ]);
    const second = manifest('second', { exposed: true });
    expect(manifestProblems([...shop, second], code)).toEqual([
      'only one service may be exposed, not gateway, second',
    ]);
  });

  it('hold topics to the catalogue and subscriptions to the code', () => {
    const stray = manifest('stray', { publishes: ['shelf.filled'], subscribes: ['shelf.emptied'] });
    expect(manifestProblems([...shop, stray], code)).toEqual([
      "shelf.filled is published by shelf, stray; the catalogue's producer is shelf",
      'stray subscribes to shelf.emptied, which no service publishes',
      'stray subscribes to [shelf.emptied] but its src/events.ts consumes []',
    ]);
    const silent = { ...reader, subscribes: [] };
    expect(manifestProblems([gateway, shelf, silent], code)).toEqual([
      'reader subscribes to [] but its src/events.ts consumes [shelf.filled]',
    ]);
  });
});

describe('the generated files', () => {
  it('give the gateway every route and document, and each caller its own calls', () => {
    expect(accessControl(shop)).toEqual({
      gateway: {},
      shelf: {
        gateway: ['* /api/v1/shelves/**', 'GET /internal/openapi.json', 'POST /internal/batch'],
        reader: ['GET /internal/shelves/**'],
      },
      reader: {},
    });
  });

  it('list every app in dapr.yaml with its local ports', () => {
    const text = daprRunYaml(shop);
    expect(text.split('\n')[0]).toBe(`# ${generatedNote}`);
    expect(parse(text).apps[1]).toEqual({
      appID: 'shelf',
      appDirPath: './services/shelf',
      appPort: shelf.ports.app,
      daprHTTPPort: shelf.ports.daprHttp,
      command: ['node', '--import', '@shop/platform/tracing-preload', 'src/main.ts'],
      env: { METRICS_PORT: String(shelf.ports.metrics) },
    });
  });
});

describe('the generated YAML edits', () => {
  it("keep the chart's own settings, add a new service and drop a removed one", () => {
    const values = `services:
  gateway:
    enabled: true
    port: 1
    env: { A: b } # kept
  gone:
    enabled: true
dapr:
  accessControl: {}
broker:
  nats:
    subjects: []
`;
    const once = chartValuesYaml(values, shop);
    const result = parse(once);
    expect(result.services.gateway).toEqual({
      enabled: true,
      port: gateway.ports.app,
      env: { A: 'b' },
      expose: { type: 'ClusterIP', port: gateway.ports.app, nodePort: null },
    });
    expect(result.services.shelf).toEqual({
      enabled: true,
      port: shelf.ports.app,
      database: { secret: 'shop-shelf-db', key: 'url' },
    });
    expect(result.services.gone).toBeUndefined();
    expect(result.broker.nats.subjects).toEqual(['deadletter.reader', 'shelf.filled']);
    expect(once).toContain('# kept');
    expect(chartValuesYaml(once, shop)).toBe(once);
  });
});

describe("the kafka profile's comment", () => {
  it('has its list of topics rewritten, and nothing around it', () => {
    const intro =
      '#           for each of (the same list as broker.nats.subjects, every topic of the shop):\n';
    const text = `# before\n${intro}#             old.topic\n# nats\n`;
    const topics = Array.from({ length: 8 }, (_, i) => `topic.number_${i}`);
    expect(withKafkaTopicList(text, topics)).toBe(
      `# before\n${intro}` +
        '#             topic.number_0 topic.number_1 topic.number_2 topic.number_3 topic.number_4\n' +
        '#             topic.number_5 topic.number_6 topic.number_7\n# nats\n',
    );
  });

  it('leave the invoke timeout out where the manifest says why, once regenerated or many times', () => {
    const stream = manifest('stream', { resiliency: { invokeTimeout: false, why: 'It streams.' } });
    const file = 'spec:\n  targets:\n    apps:\n      old: {}\n    components: {}\n';
    const once = resiliencyYaml(file, [shelf, stream]);
    expect(parse(once).spec.targets.apps).toEqual({
      shelf: { timeout: 'invoke', retry: 'invoke' },
      stream: { retry: 'invoke' },
    });
    expect(once).toContain('      # It streams.\n      stream: { retry: invoke }');
    expect(resiliencyYaml(once, [shelf, stream])).toBe(once);
    expect(once.split(generatedNote)).toHaveLength(2);
  });

  it('subscribe each consumer in the order of the apps, whatever the order given', () => {
    const docs = parseAllDocuments(
      subscriptionsYaml(
        new Map([
          ['b', ['y.z']],
          ['a', ['x.y']],
        ]),
      ),
    ).map((d) => d.toJS().metadata.name);
    expect(docs).toEqual(['a-x-y', 'a-deadletter', 'b-y-z', 'b-deadletter']);
  });
});
