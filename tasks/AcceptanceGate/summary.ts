import type { Redact } from '../shared/redaction';
import { describePlace, type StepPlace } from '../shared/summary-file';
import { metricValue, metricWords, percent } from '../shared/wording';
import type { CheckResult } from './check-runner';
import type { HealthReport, MetricResult } from './health';
import { failureLine, type TestCase } from './junit';
import { limitText, whatToCheck, type Verdict } from './verdict';

/**
 * The run summary people read at a glance: the verdict, where the gate ran, the checks
 * (failures first, then in the file's order) with a text bar of each one's latency, the
 * tests, and each health metric against its pass and warning lines, with the score. Only markdown Azure DevOps
 * renders: tables and text, no raw HTML or SVG. Every text goes through `redact`.
 */

/** What the summary shows. */
export interface SummaryInput {
  readonly verdict: Verdict;
  readonly minPassRate: number;
  readonly reasons: readonly string[];
  /** Why the verdict is Warning or Inconclusive. */
  readonly issues?: readonly string[];
  readonly checks: readonly CheckResult[];
  readonly tests: readonly TestCase[];
  readonly health?: HealthReport;
  readonly readinessNote?: string;
  /** Why no check or test ran, when none did: the summary says so instead of a pass rate. */
  readonly nothingRan?: string;
  /** What the gate checked and where it ran, for the heading: the base URL, environment and stage. */
  readonly target?: { readonly baseUrl: string; readonly place: StepPlace };
}

/** Rows beyond this are counted, not listed: 500 passing checks are one line, not a wall. */
const maxRows = 50;
/** The latency bar's full width, in characters. */
const barWidth = 12;

/** Renders the markdown summary. */
export function renderSummary(input: SummaryInput, redact: Redact): string {
  const { verdict } = input;
  const { passed, flaky, failed, skipped } = verdict.counts;
  const where = input.target
    ? [input.target.baseUrl, describePlace(input.target.place)].filter(Boolean).join(' · ')
    : '';
  const lines = [
    `## Acceptance gate: ${verdictHeading[verdict.outcome]}${where ? ` · ${cell(where)}` : ''}`,
    '',
    verdict.ran
      ? `Pass rate **${percent(verdict.passRate)}** (minimum ${percent(input.minPassRate)}): ${passed} passed, ${flaky} flaky, ${failed} failed, ${skipped} skipped.`
      : `**Nothing ran**: ${input.nothingRan ?? 'no check or test ran'}. The pass rate is 0% (the minimum ${percent(input.minPassRate)} was not applied).`,
  ];
  if (input.readinessNote) lines.push('', input.readinessNote);
  if (input.reasons.length > 0)
    lines.push('', '**Why it failed**', '', ...input.reasons.map((reason) => `- ${cell(reason)}`));
  if (input.issues && input.issues.length > 0)
    lines.push(
      '',
      `**Why it is ${verdict.outcome === 'Inconclusive' ? 'inconclusive' : 'a warning'}**`,
      '',
      ...input.issues.map((issue) => `- ${cell(issue)}`),
    );
  if (input.checks.length > 0) lines.push('', ...checksTable(input.checks));
  if (input.tests.length > 0) lines.push('', ...testsSection(input.tests, redact));
  if (input.health) lines.push('', ...healthTable(input.health));
  lines.push('');
  return redact(lines.join('\n'));
}

const verdictHeading: Record<Verdict['outcome'], string> = {
  Passed: '✅ passed',
  Warning: '⚠️ warning',
  Inconclusive: '❔ inconclusive',
  Failed: '❌ failed',
};

const outcomeIcon: Record<string, string> = {
  passed: '✅ passed',
  flaky: '⚠️ flaky',
  failed: '❌ failed',
  skipped: '⏭️ skipped',
};
const outcomeOrder: Record<string, number> = { failed: 0, flaky: 1, passed: 2, skipped: 3 };

function checksTable(checks: readonly CheckResult[]): string[] {
  // A stable sort: failures first, then the checks file's order, the same in every run.
  const ordered = [...checks].sort((a, b) => (outcomeOrder[a.outcome] ?? 9) - (outcomeOrder[b.outcome] ?? 9));
  const shown = ordered.slice(0, maxRows);
  const slowest = Math.max(...shown.map((check) => check.latencyMs), 1);
  const rows = shown.map(
    (check) =>
      `| ${cell(check.name)} | ${outcomeIcon[check.outcome]} | ${latencyBar(check.latencyMs, slowest)} | ${ms(check.latencyMs)} | ${check.latenciesMs.length > 1 ? `${ms(check.p95Ms)} over ${check.latenciesMs.length}` : '–'} | ${check.attempts} | ${cell(check.failures.join('; ') || '')} |`,
  );
  const hidden = ordered.length - shown.length;
  return [
    `### Checks (${checks.length})`,
    '',
    '| Check | Result | Latency (median) | | p95 | Attempts | Detail |',
    '|---|---|---|---:|---:|---:|---|',
    ...rows,
    ...(hidden > 0 ? ['', `…and ${hidden} more, all passed.`] : []),
  ];
}

const eighths = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of block characters as long as `value` is against `max`: renders in any table, in any font. */
export function latencyBar(value: number, max: number): string {
  const units = Math.round((Math.max(0, value) / Math.max(max, 1)) * barWidth * 8);
  const bar = '█'.repeat(Math.floor(units / 8)) + eighths[units % 8];
  return bar || '▏';
}

function testsSection(tests: readonly TestCase[], redact: Redact): string[] {
  const suites = new Map<string, TestCase[]>();
  for (const test of tests) suites.set(test.suite, [...(suites.get(test.suite) ?? []), test]);
  const rows = [...suites].map(([suite, cases]) => {
    const count = (outcome: string) => cases.filter((c) => c.outcome === outcome).length;
    return `| ${cell(suite)} | ${count('passed')} | ${count('flaky')} | ${count('failed')} | ${count('skipped')} |`;
  });
  const notable = tests
    .filter((test) => test.outcome === 'failed' || test.outcome === 'flaky')
    .slice(0, maxRows)
    .map(
      (test) =>
        `- ${outcomeIcon[test.outcome]} ${cell(`${test.classname} › ${test.name}`)}: ${cell(failureLine(test, redact))}`,
    );
  return [
    `### Tests (${tests.length})`,
    '',
    '| Suite | Passed | Flaky | Failed | Skipped |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    ...(notable.length > 0 ? ['', ...notable] : []),
  ];
}

const metricIcon: Record<MetricResult['outcome'], string> = {
  Passed: '✅ passed',
  Warning: '⚠️ warning',
  Failed: '❌ failed',
  Inconclusive: '❔ no data',
};

function healthTable(health: HealthReport): string[] {
  const rows = health.metrics.map((metric) => {
    const relative = metric.threshold.pass.relative || metric.threshold.warn?.relative === true;
    const value = metric.value === undefined ? 'no data' : metricValue(metric.name, metric.value);
    const baseline = !relative
      ? '–'
      : metric.baseline === undefined
        ? 'no data'
        : metricValue(metric.name, metric.baseline);
    const outcome =
      metric.outcome === 'Inconclusive' && metric.missing === 'baseline'
        ? '❔ no baseline'
        : metricIcon[metric.outcome];
    return `| ${cell(metricWords(metric.name))} \`${cell(metric.name)}\` | ${metric.source} | ${value} | ${cell(limitText(metric, metric.threshold.pass, metric.passLimit))} | ${metric.threshold.warn ? cell(limitText(metric, metric.threshold.warn, metric.warnLimit)) : '–'} | ${baseline} | ${metric.threshold.weight} | ${outcome} |`;
  });
  const missing = health.metrics.filter(
    (metric) => metric.outcome === 'Inconclusive' && metric.missing === 'data',
  );
  const judged = health.metrics.filter((metric) => metric.outcome !== 'Inconclusive').length;
  return [
    `### Health in Azure Monitor (${cell(health.target)})`,
    '',
    `Score **${health.score}** of 100 over ${judged} of ${health.metrics.length} metrics with data (passed 1, warning 0.5, failed 0, by weight).`,
    '',
    '| Metric | Source | Value | Pass | Warn | Baseline | Weight | Outcome |',
    '|---|---|---:|---|---|---:|---:|---|',
    ...rows,
    ...(missing.length > 0
      ? [
          '',
          `No data arrived within ${health.waitMinutes} min for ${missing.map((metric) => `\`${metric.name}\``).join(', ')}. Check ${cell(
            [...new Set(missing.map((metric) => whatToCheck(metric, health)))].join('; and '),
          )}.`,
        ]
      : []),
  ];
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

// A pipe or a line break would end the table cell early.
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
