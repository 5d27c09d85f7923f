export {
  ancestors,
  isDatabaseSpan,
  isSidecarSpan,
  type JaegerSpan,
  type JaegerTrace,
  jaegerTrace,
  newestTrace,
  parentOf,
  rootsOf,
  serviceOf,
  settledTrace,
  spansOf,
} from './jaeger.ts';
export { svgWaterfall, textWaterfall, type WaterfallRow, waterfallRows } from './waterfall.ts';
