import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration, statusMark, statusWords } from './log';
import { escapeHtml, markdownToHtml } from '../runner/markdown';
import type { RunOutcome, StepRecord } from './pipeline';
import type { RegistryComparison } from './registries';

/** A phase the demo runs before the pipeline, with how long it took. */
export interface Phase {
  readonly title: string;
  readonly durationMs: number;
}

/** Everything the summary screen, result.json and the HTML report show. */
export interface DemoReport {
  readonly startedAt: Date;
  readonly totalMs: number;
  readonly breakage: string | undefined;
  readonly outcome: RunOutcome;
  readonly phases: readonly Phase[];
  readonly steps: readonly StepRecord[];
  readonly image: {
    readonly repository: string;
    readonly tag: string;
    /** `repository:tag`. */
    readonly reference: string;
    readonly digest: string;
    readonly platforms: readonly string[];
    readonly sbomDigest: string;
  };
  readonly registries: RegistryComparison;
  readonly vsix: string;
}

/** The files the report was written to. */
export interface ReportFiles {
  readonly html: string;
  readonly json: string;
  readonly summaries: readonly string[];
}

/** The step a task ran as, found by task name (`AcceptanceGate@1`). */
export function stepOf(
  report: Pick<DemoReport, 'steps'>,
  task: string,
  stage?: string,
): StepRecord | undefined {
  return report.steps.find((step) => step.task === task && (stage === undefined || step.stage === stage));
}

/** The one-screen summary printed at the end of the run. */
export function summaryLines(report: DemoReport, files: ReportFiles): string[] {
  const { registries, image } = report;
  const gate = stepOf(report, 'AcceptanceGate@1');
  const promote = stepOf(report, 'AcrPromoteImage@1');
  const rollouts = report.steps.filter((step) => step.task === 'AksDeploy@1');
  const shortDigest = (digest: string | undefined) => (digest ? digest.slice(0, 19) + '…' : 'none');
  const registryLine = (label: string, content: RegistryComparison['nonprod']) =>
    `  ${label.padEnd(10)}${content.loginServer}/${image.reference} → ${content.digest ?? 'not there'}${content.sbom ? ' + SBOM' : ''}`;
  const production = registries.identical
    ? `${registries.prod.digest} (identical in both registries)`
    : registries.prod.digest
      ? `${registries.prod.digest}, which differs from non-production`
      : 'nothing reached production';
  return [
    '',
    `━━ Summary ${'━'.repeat(67)}`,
    `Result      ${statusMarkForOutcome(report.outcome)} ${report.outcome.status}: ${report.outcome.headline}${report.breakage ? ` (--break ${report.breakage})` : ''}`,
    `Time        ${formatDuration(report.totalMs)} in all · ${report.phases.map((phase) => `${phase.title} ${formatDuration(phase.durationMs)}`).join(' · ')}`,
    `Image       ${image.reference} · ${image.platforms.join(', ')} · built ${shortDigest(image.digest)}`,
    `Production  ${production}`,
    registryLine('nonprod', registries.nonprod),
    registryLine('prod', registries.prod),
    `Promotion   ${promote ? `${statusWords[promote.status]}${promote.outputs.imageReference ? ` → ${promote.outputs.imageReference}` : ''}` : 'not run'}`,
    `Rollouts    ${rollouts.map((step) => `${step.name.replace(/^Deploy to /, '')}: ${step.outputs.rolloutStatus ?? statusWords[step.status]}`).join(' · ')}`,
    `Gate        ${gate ? gateVerdict(gate) : 'not run'}`,
    `Steps       ${report.steps.map((step) => `${statusMark[step.status]} ${step.task.split(' ')[0]} ${formatDuration(step.durationMs)}`).join('  ')}`,
    `Report      ${files.html}`,
    `Summaries   ${files.summaries.length} markdown file(s) beside it; result.json for scripts`,
  ];
}

/** The gate's verdict as one phrase: the verdict and pass rate it set, or how it ended. */
export function gateVerdict(gate: StepRecord): string {
  if (gate.outputs.verdict) {
    const rate = gate.outputs.passRate ? `, pass rate ${gate.outputs.passRate} %` : '';
    return `${gate.outputs.verdict}${rate}${gate.status === 'Failed' && gate.message ? ` · ${gate.message}` : ''}`;
  }
  return `${statusWords[gate.status]}${gate.message ? ` · ${gate.message}` : ''}`;
}

/**
 * Writes each step's markdown summaries (summaries/NN-<task>-<n>.md), result.json (what a
 * script or test checks: statuses, outputs, digests; no secret ever) and report.html, a
 * self-contained page of the whole run, into `outDir`.
 */
export function writeReport(outDir: string, report: DemoReport): ReportFiles {
  const summariesDir = join(outDir, 'summaries');
  rmSync(summariesDir, { recursive: true, force: true });
  mkdirSync(summariesDir, { recursive: true });
  const summaries: string[] = [];
  report.steps.forEach((step, index) => {
    step.summaries.forEach((summary, number) => {
      const file = join(
        summariesDir,
        `${String(index + 1).padStart(2, '0')}-${step.task.split('@')[0]}${number > 0 ? `-${number + 1}` : ''}.md`,
      );
      writeFileSync(file, summary.content);
      summaries.push(file);
    });
  });
  const json = join(outDir, 'result.json');
  writeFileSync(json, JSON.stringify(resultJson(report), null, 2) + '\n');
  const html = join(outDir, 'report.html');
  writeFileSync(html, reportHtml(report));
  return { html, json, summaries };
}

function resultJson(report: DemoReport) {
  return {
    startedAt: report.startedAt.toISOString(),
    totalMs: report.totalMs,
    breakage: report.breakage ?? null,
    outcome: report.outcome,
    image: report.image,
    registries: report.registries,
    phases: report.phases,
    steps: report.steps.map((step) => ({
      stage: step.stage,
      name: step.name,
      task: step.task,
      status: step.status,
      durationMs: step.durationMs,
      message: step.message,
      outputs: step.outputs,
    })),
  };
}

function statusMarkForOutcome(outcome: RunOutcome): string {
  return outcome.status === 'Succeeded' ? '✔' : outcome.status === 'Failed' ? '✘' : '∅';
}

const styles = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1f24}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code,pre{font:12px/1.4 ui-monospace,monospace}pre{background:#f6f8fa;padding:.5rem;overflow:auto}
.Succeeded,.AutoApproved{color:#1a7f37}.Failed{color:#cf222e}.NotAvailable,.SucceededWithIssues,.Incomplete{color:#9a6700}.Skipped{color:#6e7781}
.step{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;margin:.75rem 0}.summary{border-left:3px solid #d0d7de;padding-left:1rem}
`;

function reportHtml(report: DemoReport): string {
  const { registries } = report;
  const row = (cells: readonly string[]) => `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`;
  const status = (value: string, words: string) =>
    `<span class="${escapeHtml(value)}">${escapeHtml(words)}</span>`;
  const code = (text: string | undefined) => (text ? `<code>${escapeHtml(text)}</code>` : '—');
  const gate = stepOf(report, 'AcceptanceGate@1');
  const steps = report.steps
    .map(
      (
        step,
      ) => `<div class="step"><h3>${status(step.status, statusMark[step.status])} ${escapeHtml(step.name)}
<small>· ${escapeHtml(step.task)} · ${escapeHtml(step.stage)} · ${formatDuration(step.durationMs)}</small></h3>
<p>${status(step.status, statusWords[step.status])}${step.message ? ` · ${escapeHtml(step.message)}` : ''}</p>
${
  Object.keys(step.outputs).length > 0
    ? `<table><thead><tr><th>Output variable</th><th>Value</th></tr></thead><tbody>${Object.entries(
        step.outputs,
      )
        .map(([name, value]) => row([code(name), code(value)]))
        .join('')}</tbody></table>`
    : ''
}
${step.summaries.map((summary) => `<div class="summary">${markdownToHtml(summary.content)}</div>`).join('\n')}
${step.logLines.length > 0 ? `<details><summary>Log (${step.logLines.length} lines, secrets masked)</summary><pre>${escapeHtml(step.logLines.join('\n'))}</pre></details>` : ''}
</div>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AKS Release Flow demo: ${escapeHtml(report.outcome.status)}</title>
<style>${styles}</style></head><body>
<h1>AKS Release Flow demo · ${status(report.outcome.status, report.outcome.status)}</h1>
<p>${escapeHtml(report.outcome.headline)}${report.breakage ? ` · run with <code>--break ${escapeHtml(report.breakage)}</code>` : ''}</p>
<p>Started ${escapeHtml(report.startedAt.toISOString())} · ${formatDuration(report.totalMs)} in all · tasks from <code>${escapeHtml(report.vsix)}</code>, run through the agent harness on the emulated Azure (loopback only).</p>
<h2>Summary</h2>
<table><tbody>
${row(['Image', `${code(report.image.reference)} · ${escapeHtml(report.image.platforms.join(', '))} · index ${code(report.image.digest)} · SBOM ${code(report.image.sbomDigest)}`])}
${row(['Non-production registry', `${code(registries.nonprod.loginServer)} → ${code(registries.nonprod.digest)}${registries.nonprod.sbom ? ' · SBOM attached' : ''}`])}
${row(['Production registry', `${code(registries.prod.loginServer)} → ${code(registries.prod.digest)}${registries.prod.sbom ? ' · SBOM attached' : ''}`])}
${row(['Identical in both', registries.identical ? status('Succeeded', 'yes') : status('Failed', 'no')])}
${row([
  'Rollouts',
  report.steps
    .filter((step) => step.task === 'AksDeploy@1')
    .map(
      (step) =>
        `${escapeHtml(step.name)}: ${status(step.status, step.outputs.rolloutStatus ?? statusWords[step.status])}`,
    )
    .join('<br>'),
])}
${row(['Acceptance gate', gate ? status(gate.status, gateVerdict(gate)) : 'not run'])}
</tbody></table>
<h2>Timings</h2>
<table><tbody>${report.phases.map((phase) => row([escapeHtml(phase.title), formatDuration(phase.durationMs)])).join('')}</tbody></table>
<h2>Pipeline</h2>
${steps}
</body></html>
`;
}
