// `npm run trace -- --jaeger http://127.0.0.1:PORT [--trace ID] [--svg FILE] [--all]`: one
// trace of the running shop, read from its Jaeger (npm start prints `shop: jaeger at ...`),
// drawn as a waterfall in the terminal and, with --svg, as a picture. Without --trace, the
// newest checkout (orders' POST /api/v1/orders). Database client spans are left out unless
// --all, so the hops between services stand out.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  isDatabaseSpan,
  jaegerTrace,
  newestTrace,
  svgWaterfall,
  textWaterfall,
  waterfallRows,
} from '@shop/devkit/traces';

const { values } = parseArgs({
  options: {
    jaeger: { type: 'string', default: process.env.SHOP_JAEGER_URL },
    trace: { type: 'string' },
    svg: { type: 'string' },
    all: { type: 'boolean', default: false },
  },
});
if (!values.jaeger) {
  console.error(
    'trace: give --jaeger http://127.0.0.1:PORT (npm start prints it) or SHOP_JAEGER_URL',
  );
  process.exit(2);
}
const found = values.trace
  ? await jaegerTrace(values.jaeger, values.trace)
  : await newestTrace(values.jaeger, 'orders', 'POST /api/v1/orders');
if (!found) {
  console.error(`trace: Jaeger at ${values.jaeger} has ${values.trace ?? 'no checkout'} yet`);
  process.exit(1);
}
const rows = waterfallRows(found, (span) => values.all || !isDatabaseSpan(span));
const title = `trace ${found.traceID}: ${found.spans.length} spans, ${rows.length} shown`;
console.log(`${title}\n${textWaterfall(rows)}`);
if (values.svg) {
  writeFileSync(values.svg, svgWaterfall(rows, title));
  console.log(`trace: wrote ${values.svg}`);
}
