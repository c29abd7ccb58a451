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

/** The metric a query answers (its last summarize), or "custom" for a one-line healthQuery. */
function answered(query: string): string {
  if (!query.includes('\n')) return 'custom';
  return [...query.matchAll(/summarize (\w+) =/g)].at(-1)?.[1] ?? 'unknown';
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
  it('runs every metric at once, in one round trip, over the window since the deploy started', async () => {
    const { deps, state } = workspace((what) => metric(what, what === 'restarts' ? 2 : 0));
    const report = await watchHealth(
      plan('restarts <= 0\npodsNotReady <= 0\noomKilled <= 0\nfailedRatePercent <= 1\nwarningEvents <= 0'),
      deps,
    );
    assert.deepEqual(
      state.asked.map((a) => a.what),
      ['restarts', 'podsNotReady', 'oomKilled', 'failedRatePercent', 'warningEvents'],
    );
    // No pod lookup first: each Container Insights query finds the release's pods itself.
    assert.equal(state.mostInFlight, 5);
    assert.ok(state.asked.every((a) => a.window.startTime.getTime() === start));
    assert.match(state.asked[0]?.query ?? '', /PodLabel has_any \('5d8f'\)/);
    assert.match(state.asked[4]?.query ?? '', /^let releasePods = KubePodInventory\n/);
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
    // The pods reach KubePodInventory after 25 s, their Perf rows after 70 s; failedRatePercent is there at once.
    const { deps, state, elapsed } = workspace((what, at) => {
      const since = at - (start + 30 * 60_000);
      if (what === 'restarts') return metric('restarts', 0, since >= 25_000 ? 4 : 0);
      if (what === 'cpuPercentOfLimit')
        return metric(what, since >= 70_000 ? 40 : null, since >= 70_000 ? 9 : 0);
      return metric(what, 0.5);
    });
    const report = await watchHealth(
      plan('restarts <= 0\ncpuPercentOfLimit <= 80\nfailedRatePercent <= 1'),
      deps,
    );
    assert.deepEqual(
      state.asked.map((a) => `${(a.at - (start + 30 * 60_000)) / 1000}s ${a.what}`),
      [
        '0s restarts',
        '0s cpuPercentOfLimit',
        '0s failedRatePercent',
        '10s restarts',
        '10s cpuPercentOfLimit',
        '30s restarts',
        '30s cpuPercentOfLimit',
        '70s cpuPercentOfLimit',
      ],
    );
    assert.equal(elapsed(), 70_000);
    assert.deepEqual(state.lines, [
      "Health: no data yet for restarts, cpuPercentOfLimit; no answer shows the release's pods in KubePodInventory yet. Asking again in 10 s (5 min left of 5 minutes).",
      "Health: no data yet for restarts, cpuPercentOfLimit; no answer shows the release's pods in KubePodInventory yet. Asking again in 20 s (4 min 50 s left of 5 minutes).",
      'Health: no data yet for cpuPercentOfLimit. Asking again in 40 s (4 min 30 s left of 5 minutes).',
    ]);
    assert.deepEqual(
      report.metrics.map((m) => m.outcome),
      ['Passed', 'Passed', 'Passed'],
    );
    // Each round's window ends at that round's time.
    assert.equal(state.asked.at(-1)?.window.endTime.getTime(), start + 30 * 60_000 + 70_000);
  });

  it('is Inconclusive after the wait for a metric that never has data, never a pass', async () => {
    // What the service answers while nothing has arrived: one row, samples 0.
    const { deps, state, elapsed } = workspace((what) =>
      metric(what, what === 'warningEvents' || what === 'exceptions' ? 0 : null, 0),
    );
    const report = await watchHealth(
      plan('restarts <= 0\nwarningEvents <= 0\nexceptions <= 0\np95DurationMs <= 500'),
      deps,
    );
    assert.equal(elapsed(), 5 * 60_000, 'waited the whole healthWaitMinutes, and not longer');
    const sleeps = state.lines.map((line) => /Asking again in ([\d a-z]+) \(/.exec(line)?.[1]);
    assert.deepEqual(sleeps, ['10 s', '20 s', '40 s', '1 min', '1 min', '1 min', '50 s']);
    assert.equal(healthBackoff.maxMs, 60_000);
    assert.deepEqual(
      report.metrics.map((m) => [m.name, m.value, m.outcome]),
      [
        ['restarts', undefined, 'Inconclusive'],
        // 0 Warning events only because the release's pods were never seen (samples 0): no data, not a pass.
        ['warningEvents', undefined, 'Inconclusive'],
        // Exceptions are written only when they happen, with nothing else to count over: no rows is zero.
        ['exceptions', 0, 'Passed'],
        ['p95DurationMs', undefined, 'Inconclusive'],
      ],
    );
    assert.equal(report.score, 100);
  });

  it('judges a Container Insights count once the release pods are seen, 0 for no rows', async () => {
    const { deps } = workspace((what) => metric(what, 0, 2));
    const report = await watchHealth(
      plan('warningEvents <= 0\nerrorLogLines <= 0', { waitMinutes: 0 }),
      deps,
    );
    assert.deepEqual(
      report.metrics.map((m) => [m.name, m.value, m.samples, m.outcome]),
      [
        ['warningEvents', 0, 2, 'Passed'],
        ['errorLogLines', 0, 2, 'Passed'],
      ],
    );
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
    // The previous release's pods: every pod of the namespace then, whatever its hash.
    assert.match(cpuBefore, /Namespace == 'shop'\n\| distinct Name, PodUid;/);
    assert.doesNotMatch(cpuBefore, /has_any/);
    // Current and baseline queries, all four in one round.
    assert.equal(state.mostInFlight, 4);
    assert.equal(state.asked.length, 4);
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
