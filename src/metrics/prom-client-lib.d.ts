/**
 * Types for the prom-client modules registry.ts imports by path: each one's `module.exports` is
 * the class or function the package's index re-exports, so it reuses the index's types.
 */
declare module 'prom-client/lib/registry' {
  import { Registry } from 'prom-client';
  export default Registry;
}
declare module 'prom-client/lib/counter' {
  import { Counter } from 'prom-client';
  export default Counter;
}
declare module 'prom-client/lib/gauge' {
  import { Gauge } from 'prom-client';
  export default Gauge;
}
declare module 'prom-client/lib/histogram' {
  import { Histogram } from 'prom-client';
  export default Histogram;
}
declare module 'prom-client/lib/defaultMetrics' {
  import { collectDefaultMetrics } from 'prom-client';
  export default collectDefaultMetrics;
}
