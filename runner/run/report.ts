/**
 * The run's report: one self-contained HTML page in the run folder with what the run's
 * page in Azure DevOps shows: the stages, jobs and steps with their results, each step's
 * log (masked), the summaries the steps uploaded (rendered as the Extensions tab renders
 * them), the test runs and the artifacts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeHtml, markdownToHtml } from '../markdown';
import { formatDuration, resultMark, resultWords } from './log';
import type { JobRecord, RecordResult, RunRecord, StepRecord } from './record';

const styles = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24}
h1{font-size:1.5rem;overflow-wrap:anywhere}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}h3{font-size:1rem;margin:.25rem 0;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:.5rem 0;display:block;overflow-x:auto}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code,pre{font:12px/1.4 ui-monospace,monospace}pre{background:#f6f8fa;padding:.5rem;overflow:auto;white-space:pre-wrap}
td code{overflow-wrap:anywhere;word-break:break-all}.summary{overflow-wrap:anywhere}.summary table{max-width:100%}
.Succeeded{color:#1a7f37}.Failed{color:#cf222e}.SucceededWithIssues{color:#9a6700}.Canceled{color:#8250df}.Skipped{color:#6e7781}
.job{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;margin:.75rem 0}.step{margin:.5rem 0 .5rem 1rem}
.summary{border-left:3px solid #d0d7de;padding-left:1rem;margin:.5rem 0}
`;

/** Writes report.html into the run folder and returns its path. */
export function writeRunReport(folder: string, record: RunRecord): string {
  const file = join(folder, 'report.html');
  writeFileSync(file, reportHtml(record));
  return file;
}

function result(value: RecordResult, text = `${resultMark[value]} ${resultWords[value]}`): string {
  return `<span class="${value}">${escapeHtml(text)}</span>`;
}

function stepHtml(step: StepRecord): string {
  const summaries = step.summaries
    .filter((summary) => existsSync(summary.file))
    .map(
      (summary) =>
        `<div class="summary"><small>${escapeHtml(summary.name)}</small>${markdownToHtml(readFileSync(summary.file, 'utf8'))}</div>`,
    )
    .join('\n');
  const log =
    step.logLines.length > 0
      ? `<details><summary>Log (${step.logLines.length} lines, secrets masked)</summary><pre>${escapeHtml(step.logLines.join('\n'))}</pre></details>`
      : '';
  return `<div class="step"><h3>${result(step.result, resultMark[step.result])} ${escapeHtml(step.displayName)} <small>· ${escapeHtml(step.task)}${step.result === 'Skipped' ? '' : ` · ${formatDuration(step.durationMs)}`}</small></h3>
${step.message ? `<pre>${escapeHtml(step.message)}</pre>` : ''}${summaries}${log}</div>`;
}

function jobHtml(job: JobRecord): string {
  const outputs = Object.entries(job.outputs);
  return `<div class="job"><h3>${result(job.result, resultMark[job.result])} Job ${escapeHtml(job.displayName)} <small>· ${escapeHtml(job.kind)}${job.environment ? ` · environment ${escapeHtml(job.environment.name)}${job.environment.resourceName ? `.${escapeHtml(job.environment.resourceName)}` : ''}` : ''} · ${formatDuration(job.durationMs)}</small></h3>
${job.message ? `<pre>${escapeHtml(job.message)}</pre>` : ''}
${job.steps.map(stepHtml).join('\n')}
${outputs.length > 0 ? `<table><thead><tr><th>Output variable</th><th>Value</th></tr></thead><tbody>${outputs.map(([name, value]) => `<tr><td><code>${escapeHtml(name)}</code></td><td><code>${escapeHtml(value)}</code></td></tr>`).join('')}</tbody></table>` : ''}
</div>`;
}

/** The report page of a run. */
export function reportHtml(record: RunRecord): string {
  const stages = record.stages
    .map(
      (stage) =>
        `<h2>${result(stage.result, resultMark[stage.result])} Stage ${escapeHtml(stage.displayName)} <small>${stage.result === 'Skipped' ? `skipped${stage.message ? `: ${escapeHtml(stage.message)}` : ''}` : formatDuration(stage.durationMs)}</small></h2>
${stage.jobs
  .filter((job) => job.result !== 'Skipped' || job.steps.length > 0)
  .map(jobHtml)
  .join('\n')}`,
    )
    .join('\n');
  const tests =
    record.testRuns.length > 0
      ? `<h2>Tests</h2><table><thead><tr><th>Run</th><th>Passed</th><th>Failed</th><th>Skipped</th><th>Failed tests</th></tr></thead><tbody>${record.testRuns
          .map(
            (run) =>
              `<tr><td>${escapeHtml(run.title)}</td><td>${run.passed}</td><td>${run.failed}</td><td>${run.skipped}</td><td>${run.failedTests.map(escapeHtml).join('<br>')}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : '';
  const artifacts =
    record.artifacts.length > 0
      ? `<h2>Artifacts</h2><ul>${record.artifacts.map((name) => `<li><code>${escapeHtml(name)}</code></li>`).join('')}</ul>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(record.pipeline)} run ${record.runId}: ${escapeHtml(record.result)}</title>
<style>${styles}</style></head><body>
<h1>${escapeHtml(record.pipeline)} · run ${record.runId} · ${result(record.result)}</h1>
<p><code>${escapeHtml(record.file)}</code> · ${escapeHtml(record.buildNumber)} · ${escapeHtml(record.sourceBranch)} · ${escapeHtml(record.reason)}${record.triggeredBy ? ` by ${escapeHtml(record.triggeredBy.pipeline)} run ${record.triggeredBy.runId}` : ''} · started ${escapeHtml(record.startedAt)} · ${formatDuration(record.durationMs)}</p>
${stages}
${tests}
${artifacts}
</body></html>
`;
}
