// What one `npm run soak` found: written as report.json, and drawn as report.html.

/** Latency percentiles of a set of answered requests, in milliseconds. */
export type Percentiles = { p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number };

export type SoakOptions = {
  minutes: number;
  /** Requests per second, held constant (an open model). */
  rate: number;
  /** Each operation's share of the requests; the shares sum to 1. */
  mix: Record<string, number>;
  broker: string;
  stateStore: string;
  replicas: number;
  /** Seconds between two kills; null without --chaos. */
  chaosEverySeconds: number | null;
  /** The seed of every random choice (the mix, users, products, the victims of the kills). */
  seed: number;
};

/** One second of the run, counted by when the requests were sent. */
export type SecondOfRun = {
  /** Seconds since the load began. */
  second: number;
  sent: number;
  ok: number;
  errors: number;
} & Percentiles;

export type OperationFigures = {
  /** browse, search, product, wishlist, cart, checkout, cancel, ... */
  name: string;
  requests: number;
  ok: number;
  errors: number;
} & Percentiles;

export type Kill = {
  /** Seconds since the load began. */
  atSecond: number;
  /** The process the supervisor names it by: `orders`, `orders-2-dapr`, `postgres`, ... */
  process: string;
  /** From the kill until the supervisor had it running again; null if it did not. */
  restartedAfterMs: number | null;
  /** Operations that depend on the process (all of them for the gateway and infrastructure). */
  affected: string[];
  /** Seconds since the load began of the first failed request on an affected operation; null if none failed. */
  firstErrorSecond: number | null;
  /** From that first error to the first success after which the path stayed healthy; null if none failed, or it never healed. */
  healMs: number | null;
};

export type OrderFigures = {
  /** Checkouts the shop answered 202: orders it promised to settle. */
  acknowledged: number;
  /** Of those, confirmed or cancelled within their expiry. */
  terminal: number;
  confirmed: number;
  /** Cancelled orders by reason (out_of_stock, payment_declined, expired, customer, ...). */
  cancelled: Record<string, number>;
  /** Acknowledged orders the shop does not know. The goal is none. */
  lost: string[];
  /**
   * Orders of the soak's shoppers that no acknowledgment names. Every checkout key is sent
   * until it is acknowledged, so each key names one order; any other would be a double.
   */
  doubled: string[];
  /** Acknowledged orders still pending after their expiry (and its grace) had passed. */
  overdue: string[];
  /**
   * From the 202 to the terminal state (createdAt to updatedAt), over the orders the
   * shoppers did not cancel themselves (their updatedAt is the cancel's time).
   */
  settle: Percentiles;
};

export type SoakReport = {
  /** ISO time the load began. */
  startedAt: string;
  options: SoakOptions;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; os: string };
  /** How long the load ran, in seconds. */
  durationSeconds: number;
  /** What was actually sent per second, against options.rate. */
  achievedRate: number;
  /** Every request by outcome: `200`, `202`, `429`, `503`, `error:timeout`, `error:connection refused`, ... */
  outcomes: Record<string, number>;
  /** Every answered request's latency, whatever its operation. */
  overall?: Percentiles;
  operations: OperationFigures[];
  timeline: SecondOfRun[];
  kills: Kill[];
  /** Restarts by process, as the supervisor counted them. */
  restarts: Record<string, number>;
  orders: OrderFigures;
  /** checkInvariants' findings once the shop was quiet; empty when they hold. */
  invariants: Array<{ invariant: number; message: string; ids: string[] }>;
  /** Events parked as dead letters, by where they were found. */
  deadLetters: Record<string, number>;
  /** The live notification streams held open during the run. */
  streams: { opened: number; reconnects: number; events: number };
  verdict: { passed: boolean; reasons: string[] };
};
