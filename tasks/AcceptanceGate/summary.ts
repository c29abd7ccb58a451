import type { Redact } from '../shared/redaction';
import type { CheckResult } from './check-runner';
import type { HealthReport } from './health';
import { failureLine, type TestCase } from './junit';
import type { Verdict } from './verdict';

/**
 * The run summary people read at a glance: the verdict, the checks (failures first),
 * the tests, the health figures against their thresholds, and a latency chart as
 * inline SVG. Every text goes through `redact`.
 */

/** What the summary shows. */
export interface SummaryInput {
  readonly verdict: Verdict;
  readonly minPassRate: number;
  readonly reasons: readonly string[];
  readonly checks: readonly CheckResult[];
  readonly tests: readonly TestCase[];
  readonly health?: HealthReport;
  readonly readinessNote?: string;
  /** Why no check or test ran, when none did: the summary says so instead of a pass rate. */
  readonly nothingRan?: string;
}

/** Rows beyond this are counted, not listed: 500 passing checks are one line, not a wall. */
const maxRows = 50;
const chartBars = 15;

/** Renders the markdown summary. */
export function renderSummary(input: SummaryInput, redact: Redact): string {
  const { verdict } = input;
  const { passed, flaky, failed, skipped } = verdict.counts;
  const lines = [
    `## Acceptance gate: ${verdict.passed ? '✅ passed' : '❌ failed'}`,
    '',
    verdict.ran
      ? `Pass rate **${verdict.passRate}%** (minimum ${input.minPassRate}%): ${passed} passed, ${flaky} flaky, ${failed} failed, ${skipped} skipped.`
      : `**Nothing ran**: ${input.nothingRan ?? 'no check or test ran'}. The pass rate is 0% (the minimum ${input.minPassRate}% was not applied).`,
  ];
  if (input.readinessNote) lines.push('', input.readinessNote);
  if (input.reasons.length > 0)
    lines.push('', '**Why it failed**', '', ...input.reasons.map((reason) => `- ${cell(reason)}`));
  if (input.checks.length > 0) lines.push('', ...checksTable(input.checks));
  if (input.tests.length > 0) lines.push('', ...testsSection(input.tests, redact));
  if (input.health) lines.push('', ...healthTable(input.health));
  const chart = latencyChart(input.checks, redact);
  if (chart) lines.push('', '### Latency (median per check, slowest first)', '', chart);
  lines.push('');
  return redact(lines.join('\n'));
}

const outcomeIcon: Record<string, string> = {
  passed: '✅ passed',
  flaky: '⚠️ flaky',
  failed: '❌ failed',
  skipped: '⏭️ skipped',
};
const outcomeOrder: Record<string, number> = { failed: 0, flaky: 1, passed: 2, skipped: 3 };

function checksTable(checks: readonly CheckResult[]): string[] {
  const ordered = [...checks].sort((a, b) => (outcomeOrder[a.outcome] ?? 9) - (outcomeOrder[b.outcome] ?? 9));
  const shown = ordered.slice(0, maxRows);
  const rows = shown.map(
    (check) =>
      `| ${cell(check.name)} | ${outcomeIcon[check.outcome]} | ${ms(check.latencyMs)} | ${check.latenciesMs.length > 1 ? ms(check.p95Ms) : '–'} | ${check.attempts} | ${cell(check.failures.join('; ') || '')} |`,
  );
  const hidden = ordered.length - shown.length;
  return [
    `### Checks (${checks.length})`,
    '',
    '| Check | Status | Latency | p95 | Attempts | Detail |',
    '|---|---|---:|---:|---:|---|',
    ...rows,
    ...(hidden > 0 ? ['', `…and ${hidden} more, all passed.`] : []),
  ];
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

function healthTable(health: HealthReport): string[] {
  return [
    `### Health (${cell(health.target)})`,
    '',
    '| Figure | Value | Threshold | |',
    '|---|---:|---|---|',
    ...health.figures.map(
      (figure) =>
        `| ${cell(figure.name)} | ${figure.value ?? 'no data'} | ${figure.threshold.operator} ${figure.threshold.limit} | ${figure.value === undefined ? '➖ no traffic' : figure.crossed ? '❌ crossed' : '✅ within'} |`,
    ),
  ];
}

/** A horizontal bar chart of the slowest checks' median latency, as one line of inline SVG. */
export function latencyChart(checks: readonly CheckResult[], redact: Redact): string | undefined {
  const measured = checks.filter((check) => check.latenciesMs.length > 0);
  if (measured.length === 0) return undefined;
  const bars = [...measured].sort((a, b) => b.latencyMs - a.latencyMs).slice(0, chartBars);
  const max = Math.max(...bars.map((bar) => bar.latencyMs), 1);
  const rowHeight = 18;
  const labelWidth = 180;
  const barWidth = 300;
  const height = bars.length * rowHeight + 8;
  const colour = { passed: '#2e7d32', flaky: '#f9a825', failed: '#c62828' } as const;
  const shapes = bars.map((bar, index) => {
    const y = 4 + index * rowHeight;
    const width = Math.max(1, Math.round((bar.latencyMs / max) * barWidth));
    const name = redact(bar.name);
    const label = name.length > 26 ? `${name.slice(0, 25)}…` : name;
    return (
      `<text x="${labelWidth - 6}" y="${y + 12}" text-anchor="end">${xml(label)}</text>` +
      `<rect x="${labelWidth}" y="${y + 2}" width="${width}" height="${rowHeight - 6}" fill="${colour[bar.outcome]}"/>` +
      `<text x="${labelWidth + width + 4}" y="${y + 12}">${ms(bar.latencyMs)}</text>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + barWidth + 80}" height="${height}" font-family="sans-serif" font-size="11" role="img" aria-label="Median latency of the slowest checks">` +
    shapes.join('') +
    '</svg>'
  );
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

// A pipe or a line break would end the table cell early.
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
