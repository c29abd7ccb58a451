import { strict as assert } from 'node:assert';
import { TaskError } from '../shared/task-error';
import { healthMetrics } from './health-catalog';
import { parseThresholds } from './health-thresholds';
import {
  healthBackoff,
  watchHealth,
  type HealthPlan,
  type QueryTable,
  type QueryWindow,
} from './health-watch';

const catalog = healthMetrics.map((metric) => metric.name);
const start = Date.parse('2025-05-01T10:00:00Z');

/** The metric a query answers (its last summarize), or "pods" for a pod lookup. */
function answered(query: string): string {
  const last = query.split('\n').at(-1) ?? '';
  if (/distinct Name, PodUid/.test(last)) return query.includes('has_any') ? 'pods' : 'namespacePods';
  if (!query.includes('\n')) return 'custom';
  return /summarize (\w+) =/.exec(last)?.[1] ?? 'unknown';
}

interface Asked {
  readonly what: string;
  readonly query: string;
  readonly window: QueryWindow;
  readonly at: number;
}

/**
 * A workspace on a fake clock: `answer` says what each query returns at a given time
 * (undefined: no rows). Records every query and the most that were in flight at once.
 */
function workspace(answer: (what: string, at: number, window: QueryWindow) => QueryTable | undefined) {
  let now = start + 30 * 60_000;
  let inFlight = 0;
  const state = { asked: [] as Asked[], lines: [] as string[], mostInFlight: 0 };
  const deps = {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    log: (line: string) => state.lines.push(line),
    query: async (query: string, window: QueryWindow): Promise<QueryTable> => {
      const what = answered(query);
      state.asked.push({ what, query, window, at: now });
      inFlight++;
      state.mostInFlight = Math.max(state.mostInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return answer(what, now, window) ?? { columns: [what, 'samples'], rows: [] };
    },
  };
  return { deps, state, elapsed: () => now - (start + 30 * 60_000) };
}

const metric = (name: string, value: number | null, samples = 10): QueryTable => ({
  columns: [name, 'samples'],
  rows: [[value, samples]],
});
const pods: QueryTable = { columns: ['Name', 'PodUid'], rows: [['api-5d8f-x1', 'u-1']] };

function plan(thresholds: string, extra: Partial<HealthPlan> = {}): HealthPlan {
  return {
    target: 'workspace w',
    thresholds: parseThresholds(thresholds, { catalog, customQuery: extra.customQuery !== undefined }),
    cluster: { cluster: 'aks-staging', namespace: 'shop', podTemplateHashes: ['5d8f'] },
    app: { roleName: 'orders', version: '1.4.2' },
    errorLogPattern: 'error',
    windowStart: new Date(start),
    waitMinutes: 5,
    ...extra,
  };
}

describe('watching health', () => {
  it('finds the pods, then runs every metric at once over the window since the deploy started', async () => {
    const { deps, state } = workspace((what) =>
      what === 'pods' ? pods : metric(what, what === 'restarts' ? 2 : 0),
    );
    const report = await watchHealth(
      plan('restarts <= 0\npodsNotReady <= 0\noomKilled <= 0\nfailedRatePercent <= 1\nwarningEvents <= 0'),
      deps,
    );
    assert.deepEqual(
      state.asked.map((a) => a.what),
      ['pods', 'failedRatePercent', 'restarts', 'podsNotReady', 'oomKilled', 'warningEvents'],
    );
    // The Application Insights metric does not wait for the pod lookup; the four others run together after it.
    assert.equal(state.mostInFlight, 4);
    assert.ok(state.asked.every((a) => a.window.startTime.getTime() === start));
    assert.match(state.asked[2]?.query ?? '', /Name in \('api-5d8f-x1'\)/);
    assert.deepEqual(
      report.metrics.map((m) => [m.name, m.value, m.outcome]),
      [
        ['restarts', 2, 'Failed'],
        ['podsNotReady', 0, 'Passed'],
        ['oomKilled', 0, 'Passed'],
        ['failedRatePercent', 0, 'Passed'],
        ['warningEvents', 0, 'Passed'],
      ],
    );
    assert.equal(report.score, 80);
    assert.deepEqual(state.lines, []);
  });

  it('waits for data with backoff, asking only for what is still missing, one progress line a round', async () => {
    // Pods show up after 25 s; restarts after 70 s; failedRatePercent at once.
    const { deps, state, elapsed } = workspace((what, at) => {
      const since = at - (start + 30 * 60_000);
      if (what === 'pods') return since >= 25_000 ? pods : { columns: ['Name', 'PodUid'], rows: [] };
      if (what === 'restarts') return since >= 70_000 ? metric('restarts', 0) : undefined;
      return metric(what, 0.5);
    });
    const report = await watchHealth(plan('restarts <= 0\nfailedRatePercent <= 1'), deps);
    assert.deepEqual(
      state.asked.map((a) => `${(a.at - (start + 30 * 60_000)) / 1000}s ${a.what}`),
      ['0s pods', '0s failedRatePercent', '10s pods', '30s pods', '30s restarts', '70s restarts'],
    );
    assert.equal(elapsed(), 70_000);
    assert.deepEqual(state.lines, [
      "Health: no data yet for restarts; the release's pods are not in KubePodInventory yet. Asking again in 10 s (5 min left of 5 minutes).",
      "Health: no data yet for restarts; the release's pods are not in KubePodInventory yet. Asking again in 20 s (4 min 50 s left of 5 minutes).",
      'Health: no data yet for restarts. Asking again in 40 s (4 min 30 s left of 5 minutes).',
    ]);
    assert.deepEqual(
      report.metrics.map((m) => m.outcome),
      ['Passed', 'Passed'],
    );
    // Each round's window ends at that round's time.
    assert.equal(state.asked.at(-1)?.window.endTime.getTime(), start + 30 * 60_000 + 70_000);
  });

  it('is Inconclusive after the wait for a metric that never has data, never a pass', async () => {
    const { deps, state, elapsed } = workspace((what) => (what === 'pods' ? pods : undefined));
    const report = await watchHealth(plan('restarts <= 0\nwarningEvents <= 0\np95DurationMs <= 500'), deps);
    assert.equal(elapsed(), 5 * 60_000, 'waited the whole healthWaitMinutes, and not longer');
    const sleeps = state.lines.map((line) => /Asking again in ([\d a-z]+) \(/.exec(line)?.[1]);
    assert.deepEqual(sleeps, ['10 s', '20 s', '40 s', '1 min', '1 min', '1 min', '50 s']);
    assert.equal(healthBackoff.maxMs, 60_000);
    assert.deepEqual(
      report.metrics.map((m) => [m.name, m.value, m.outcome]),
      [
        ['restarts', undefined, 'Inconclusive'],
        // Warning events are written only when they happen: no rows is zero.
        ['warningEvents', 0, 'Passed'],
        ['p95DurationMs', undefined, 'Inconclusive'],
      ],
    );
    assert.equal(report.score, 100);
  });

  it('counts samples 0 as no data, and judges an answer without a samples column by its value', async () => {
    const { deps } = workspace((what) =>
      what === 'failedRatePercent'
        ? metric(what, 0, 0)
        : what === 'p95DurationMs'
          ? { columns: ['p95DurationMs'], rows: [[180]] }
          : { columns: ['requests'], rows: [[null]] },
    );
    const report = await watchHealth(
      plan('failedRatePercent <= 1\np95DurationMs <= 500\nrequests >= 1', {
        cluster: undefined,
        waitMinutes: 0,
      }),
      deps,
    );
    assert.deepEqual(
      report.metrics.map((m) => [m.name, m.value, m.outcome]),
      [
        ['failedRatePercent', undefined, 'Inconclusive'],
        ['p95DurationMs', 180, 'Passed'],
        ['requests', undefined, 'Inconclusive'],
      ],
    );
  });

  it('asks once and does not wait when healthWaitMinutes is 0', async () => {
    const { deps, state } = workspace(() => undefined);
    const report = await watchHealth(plan('failedRatePercent <= 1', { waitMinutes: 0 }), deps);
    assert.equal(state.asked.length, 1);
    assert.equal(report.metrics[0]?.outcome, 'Inconclusive');
  });

  it('judges a relative limit against the same query over the window before, scoped to the role, not the version', async () => {
    const { deps, state } = workspace((what, _at, window) => {
      const before = window.endTime.getTime() === start;
      if (what === 'namespacePods') return { columns: ['Name', 'PodUid'], rows: [['api-old-1', 'u-0']] };
      if (what === 'pods') return pods;
      if (what === 'p95DurationMs') return metric(what, before ? 200 : 240);
      return metric(what, before ? 40 : 45);
    });
    const report = await watchHealth(
      plan('p95DurationMs: pass <= +10%, warn <= +25%\ncpuPercentOfLimit <= +20%'),
      deps,
    );
    const baseline = state.asked.filter((a) => a.window.endTime.getTime() === start);
    const length = 30 * 60_000;
    assert.ok(baseline.every((a) => a.window.startTime.getTime() === start - length));
    const p95Before = baseline.find((a) => a.what === 'p95DurationMs')?.query ?? '';
    assert.match(p95Before, /AppRoleName == 'orders'/);
    assert.doesNotMatch(p95Before, /AppVersion/);
    const cpuBefore = baseline.find((a) => a.what === 'cpuPercentOfLimit')?.query ?? '';
    assert.match(cpuBefore, /InstanceName contains 'u-0'/, "the previous release's pods");
    assert.deepEqual(
      report.metrics.map((m) => [m.name, m.value, m.baseline, m.passLimit, m.outcome]),
      [
        ['p95DurationMs', 240, 200, 220, 'Warning'],
        ['cpuPercentOfLimit', 45, 40, 48, 'Passed'],
      ],
    );
  });

  it('takes from a custom healthQuery the names it returns, and the rest from the catalog', async () => {
    const { deps, state } = workspace((what) =>
      what === 'custom'
        ? { columns: ['errorBudget', 'failedRatePercent'], rows: [[1.5, 0.2]] }
        : metric(what, 300),
    );
    const report = await watchHealth(
      plan('errorBudget <= 2\nfailedRatePercent <= 1\np95DurationMs <= 500', {
        customQuery: 'AppRequests | summarize errorBudget = 1.5, failedRatePercent = 0.2',
        cluster: undefined,
      }),
      deps,
    );
    assert.deepEqual(
      state.asked.map((a) => a.what),
      ['custom', 'p95DurationMs'],
    );
    assert.deepEqual(
      report.metrics.map((m) => [m.name, m.source, m.value, m.outcome]),
      [
        ['errorBudget', 'healthQuery', 1.5, 'Passed'],
        ['failedRatePercent', 'healthQuery', 0.2, 'Passed'],
        ['p95DurationMs', 'Application Insights', 300, 'Passed'],
      ],
    );
  });

  it('says which column a custom healthQuery lacks', async () => {
    const { deps } = workspace(() => ({ columns: ['requests'], rows: [[5]] }));
    await assert.rejects(
      watchHealth(plan('errorBudget <= 2', { customQuery: 'AppRequests | count', cluster: undefined }), deps),
      (error: unknown) =>
        error instanceof TaskError &&
        error.key === 'HealthColumnMissing' &&
        error.args.join() === 'errorBudget,requests',
    );
  });

  it('stops at the first query the service refuses', async () => {
    const { deps } = workspace(() => {
      throw new TaskError('HealthQueryForbidden', ['workspace w']);
    });
    await assert.rejects(
      watchHealth(plan('failedRatePercent <= 1'), deps),
      (error: unknown) => error instanceof TaskError && error.key === 'HealthQueryForbidden',
    );
  });
});
