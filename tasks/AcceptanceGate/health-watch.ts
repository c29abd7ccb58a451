import { TaskError } from '../shared/task-error';
import { counted } from '../shared/wording';
import {
  healthMetric,
  type AppScope,
  type ClusterScope,
  type HealthMetric,
  type MetricScope,
} from './health-catalog';
import { healthScore, judgeMetric, type HealthReport, type MetricReading, type MetricSource } from './health';
import { isRelative, type MetricThreshold } from './health-thresholds';

/**
 * When the health queries run, and how long the gate waits for their data. Telemetry
 * reaches Log Analytics minutes after it happens, so a metric without data is asked
 * again, with backoff, until it has some or healthWaitMinutes is over; then it is
 * Inconclusive. Each round is one round trip: every metric's query (each Container Insights
 * one finds the release's pods itself) runs concurrently over healthWindowStart..now, a
 * relative one's also over the previous release's window, beside a custom healthQuery. Only
 * a catalog name that the custom query may answer waits for it, not to be asked twice.
 */

/** A query's primary table, as the gate reads it. */
export interface QueryTable {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

/** Runs one KQL query over a time window; throws TaskError on a failure the user must fix. */
export type RunQuery = (query: string, window: QueryWindow) => Promise<QueryTable>;

/** A query's time range. */
export interface QueryWindow {
  readonly startTime: Date;
  readonly endTime: Date;
}

/** What to watch, read from the inputs. */
export interface HealthPlan {
  /** The workspace or resource, as the summary names it. */
  readonly target: string;
  readonly thresholds: readonly MetricThreshold[];
  /** A custom healthQuery: it answers the names it returns; the catalog answers the rest. */
  readonly customQuery?: string;
  /** The release on the cluster; required by Container Insights metrics. */
  readonly cluster?: ClusterScope & { readonly podTemplateHashes: readonly string[] };
  readonly app: AppScope;
  readonly errorLogPattern: string;
  readonly windowStart: Date;
  readonly waitMinutes: number;
}

/** What watching needs from outside. */
export interface WatchDeps {
  readonly query: RunQuery;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: (line: string) => void;
}

/** The wait between rounds: 10 s, doubling, at most 60 s, and never past the end of the wait. */
export const healthBackoff = { firstMs: 10_000, maxMs: 60_000 } as const;

interface MetricState {
  readonly threshold: MetricThreshold;
  /** Undefined until the custom query has said whether it returns this name. */
  source?: MetricSource;
  reading: MetricReading;
  hasData: boolean;
}

/** Watches the release's health until every metric has data or the wait is over. */
export async function watchHealth(plan: HealthPlan, deps: WatchDeps): Promise<HealthReport> {
  const started = deps.now();
  const deadline = started + plan.waitMinutes * 60_000;
  const states = plan.thresholds.map((threshold): MetricState => {
    const metric = healthMetric(threshold.metric);
    // A relative limit needs the catalog's query for its baseline; the parser allowed only catalog names there.
    const source =
      !plan.customQuery || isRelative(threshold) ? metric?.source : !metric ? 'healthQuery' : undefined;
    return { threshold, ...(source ? { source } : {}), reading: {}, hasData: false };
  });
  const watch: WatchState = { releasePodsSeen: false };
  let delayMs: number = healthBackoff.firstMs;

  for (;;) {
    const window = { startTime: plan.windowStart, endTime: new Date(deps.now()) };
    const runCustom =
      plan.customQuery !== undefined && states.some((s) => !s.hasData && s.source !== catalogSource(s));
    const ready = (s: MetricState) => !s.hasData && s.source === catalogSource(s);
    const readyNow = states.filter(ready);
    const [custom] = await Promise.all([
      runCustom ? deps.query(plan.customQuery as string, window) : undefined,
      ...readyNow.map((state) => readCatalog(state, plan, window, deps.query, watch)),
    ]);
    if (custom) readCustom(custom, states);
    // The catalog names the custom query turned out not to answer.
    const readyNext = states.filter((s) => ready(s) && !readyNow.includes(s));
    await Promise.all(readyNext.map((state) => readCatalog(state, plan, window, deps.query, watch)));

    const waiting = states.filter((state) => !state.hasData);
    const leftMs = deadline - deps.now();
    if (waiting.length === 0 || leftMs <= 0) break;
    const sleepMs = Math.min(delayMs, leftMs);
    const podsUnseen =
      !watch.releasePodsSeen && waiting.some((state) => state.source === 'Container Insights');
    deps.log(progressLine(waiting, podsUnseen, sleepMs, leftMs, plan.waitMinutes));
    await deps.sleep(sleepMs);
    delayMs = Math.min(delayMs * 2, healthBackoff.maxMs);
  }

  const metrics = states.map((state) =>
    judgeMetric(state.threshold, state.source ?? catalogSource(state) ?? 'healthQuery', state.reading),
  );
  return {
    target: plan.target,
    metrics,
    score: healthScore(metrics),
    waitMinutes: plan.waitMinutes,
    scope: {
      ...(plan.cluster ? { cluster: plan.cluster.cluster, namespace: plan.cluster.namespace } : {}),
      ...plan.app,
    },
  };
}

function catalogSource(state: MetricState): MetricSource | undefined {
  return healthMetric(state.threshold.metric)?.source;
}

// The custom query answers the names it returns; a catalog name it lacks goes to the catalog.
function readCustom(table: QueryTable, states: readonly MetricState[]): void {
  for (const state of states.filter((s) => !s.hasData && s.source !== catalogSource(s))) {
    const name = state.threshold.metric;
    const index = table.columns.indexOf(name);
    if (index < 0) {
      if (healthMetric(name)) {
        state.source = healthMetric(name)?.source;
        continue;
      }
      throw new TaskError('HealthColumnMissing', [name, table.columns.join(', ') || 'none']);
    }
    state.source = 'healthQuery';
    const value = numberOf(table.rows[0]?.[index]);
    if (value !== undefined) {
      state.reading = { value };
      state.hasData = true;
    }
  }
}

/** What the rounds have learnt beyond each metric's reading. */
interface WatchState {
  /**
   * A Container Insights answer had samples: the release's pods are in KubePodInventory (each
   * such query counts only rows of those pods). Until then the progress line says so.
   */
  releasePodsSeen: boolean;
}

async function readCatalog(
  state: MetricState,
  plan: HealthPlan,
  window: QueryWindow,
  query: RunQuery,
  watch: WatchState,
): Promise<void> {
  const metric = healthMetric(state.threshold.metric) as HealthMetric;
  const scope: MetricScope = {
    app: plan.app,
    errorLogPattern: plan.errorLogPattern,
    ...(plan.cluster ? { cluster: plan.cluster } : {}),
  };
  const relative = isRelative(state.threshold);
  const readCurrent = async (): Promise<MetricReading> => {
    const table = await query(metric.query(scope), window);
    if (metric.source === 'Container Insights' && (samplesOf(table) ?? 0) > 0) watch.releasePodsSeen = true;
    return reading(metric, table);
  };
  const [current, baseline] = await Promise.all([
    state.reading.value === undefined ? readCurrent() : state.reading,
    relative && state.reading.baseline === undefined ? readBaseline(metric, plan, window, query) : undefined,
  ]);
  const baselineValue = state.reading.baseline ?? baseline?.value;
  state.reading = {
    ...current,
    ...(baselineValue !== undefined ? { baseline: baselineValue } : {}),
  };
  state.hasData = current.value !== undefined && (!relative || baselineValue !== undefined);
}

/** The window of the same length that ends where this release's began: the previous release served then. */
function previousWindow(window: QueryWindow): QueryWindow {
  const length = window.endTime.getTime() - window.startTime.getTime();
  return { startTime: new Date(window.startTime.getTime() - length), endTime: window.startTime };
}

// The same metric over the previous window, scoped to the role (not the version) and to every
// pod of the namespace then (the previous release's, whatever their hash).
async function readBaseline(
  metric: HealthMetric,
  plan: HealthPlan,
  window: QueryWindow,
  query: RunQuery,
): Promise<MetricReading> {
  const app = plan.app.roleName ? { roleName: plan.app.roleName } : {};
  const cluster: ClusterScope | undefined = plan.cluster && {
    cluster: plan.cluster.cluster,
    namespace: plan.cluster.namespace,
  };
  const scope: MetricScope = { app, errorLogPattern: plan.errorLogPattern, ...(cluster ? { cluster } : {}) };
  return reading(metric, await query(metric.query(scope), previousWindow(window)));
}

// No samples is no data yet, except for counts written only when something happens. An answer
// without a samples column at all (a workspace function standing in for a table, a test's fixed
// answer) is judged by its value alone: an empty value is still no data.
function reading(metric: HealthMetric, table: QueryTable): MetricReading {
  const row = table.rows[0];
  const at = (column: string) => {
    const index = table.columns.indexOf(column);
    return index < 0 ? undefined : numberOf(row?.[index]);
  };
  const value = at(metric.name) ?? (metric.absentMeansZero ? 0 : undefined);
  const samples = samplesOf(table);
  if (samples === undefined) return value === undefined || !row ? {} : { value };
  if (value === undefined || (samples === 0 && !metric.absentMeansZero)) return {};
  return { value, samples };
}

// The samples of a catalog answer: 0 when it has no row, undefined when it has no such column.
function samplesOf(table: QueryTable): number | undefined {
  const index = table.columns.indexOf('samples');
  return index < 0 ? undefined : (numberOf(table.rows[0]?.[index]) ?? 0);
}

function numberOf(raw: unknown): number | undefined {
  const value =
    typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : undefined;
  return value === undefined || Number.isNaN(value) ? undefined : value;
}

function progressLine(
  waiting: readonly MetricState[],
  podsUnseen: boolean,
  sleepMs: number,
  leftMs: number,
  waitMinutes: number,
): string {
  const names = waiting.map((state) =>
    state.reading.value !== undefined
      ? `${state.threshold.metric} (no baseline yet)`
      : state.threshold.metric,
  );
  const pods = podsUnseen ? "; no answer shows the release's pods in KubePodInventory yet" : '';
  return `Health: no data yet for ${names.join(', ')}${pods}. Asking again in ${seconds(sleepMs)} (${seconds(leftMs)} left of ${counted(waitMinutes, 'minute')}).`;
}

function seconds(ms: number): string {
  const total = Math.round(ms / 1000);
  return total < 60 ? `${total} s` : `${Math.floor(total / 60)} min${total % 60 ? ` ${total % 60} s` : ''}`;
}
