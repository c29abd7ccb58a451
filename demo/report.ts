/**
 * The demo's last screen, result.json (what a script or test reads: results, digests,
 * pods; never a secret) and report.html, one page that says what reached each place and
 * links each pipeline run's own report.
 */
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { escapeHtml } from '../runner/markdown';
import { formatDuration, resultMark, resultWords } from '../runner/run/log';
import type { Breakage } from './options';
import type { DemoRun, GateFacts, ReadBack } from './read-back';

/** How the demo ended. */
export interface DemoOutcome {
  readonly status: 'Succeeded' | 'Failed';
  readonly exitCode: number;
  readonly headline: string;
}

/** Everything the report shows. */
export interface DemoReport {
  readonly breakage: Breakage | undefined;
  readonly outcome: DemoOutcome;
  readonly runs: readonly DemoRun[];
  readonly facts: ReadBack;
  readonly vsix: string;
  readonly totalMs: number;
}

const short = (digest: string | undefined) => (digest ? `${digest.slice(0, 19)}…` : 'not there');

/** A gate's verdict, score and failed metrics in one line; `not reached` when CD stopped before it. */
function gateLine(gate: GateFacts | undefined): string {
  if (!gate) return 'not reached';
  const failed = gate.failedMetrics.map(
    (metric) => `${metric.name} = ${metric.value} (${metric.label}; limit ${metric.threshold})`,
  );
  return `${gate.verdict ?? gate.result}${gate.score ? `, score ${gate.score}` : ''}${failed.length > 0 ? `: failed on ${failed.join(', ')}` : ''}`;
}

/** What Verify's redeploy did, and what production runs after it. */
function rollbackLine(facts: ReadBack): string | undefined {
  if (!facts.rollback) return undefined;
  const previous = facts.production.previous;
  return `Verify redeployed what production ran before (${facts.rollback.result.toLowerCase()}): production ${previous?.runsNow ? 'runs' : 'does not run'} ${previous ? previous.image.replace(/@sha256:(.{12}).*$/, '@sha256:$1…') : 'the previous release'} again`;
}

/** The one-screen summary printed at the end. */
export function demoSummary(options: {
  readonly outcome: DemoOutcome;
  readonly runs: readonly DemoRun[];
  readonly facts: ReadBack;
  readonly totalMs: number;
  readonly report: string;
}): string[] {
  const { facts } = options;
  const pods = (list: ReadBack['pods']['staging']) =>
    list.length === 0
      ? 'no pods'
      : [
          ...new Set(
            list.map(
              (pod) => `${pod.image.replace(/@sha256:.*/, '')}@${short(pod.imageID?.replace(/^.*@/, ''))}`,
            ),
          ),
        ].join(', ');
  return [
    `━━ Summary ${'━'.repeat(67)}`,
    `Result      ${options.outcome.status === 'Succeeded' ? '✔' : '✘'} ${options.outcome.headline}`,
    ...options.runs.map(
      (run) =>
        `${run.record.pipeline.replace('orders-api-', '').toUpperCase().padEnd(12)}${resultMark[run.record.result]} ${resultWords[run.record.result]} in ${formatDuration(run.record.durationMs)} · ${run.record.stages.map((stage) => `${resultMark[stage.result]} ${stage.name}`).join('  ')}`,
    ),
    `Image       ${facts.image ? `${facts.image.repository}:${facts.image.tag} ${facts.image.digest}` : 'not pushed'}`,
    `Registries  non-production ${short(facts.registries.nonprod.digest)} · production ${short(facts.registries.prod.digest)}`,
    `Pods        staging: ${pods(facts.pods.staging)}`,
    `            production: ${pods(facts.pods.production)}`,
    `Overlays    ${overlays(facts)}`,
    `Gates       staging: ${gateLine(facts.gates.acceptance)}`,
    `            production (Verify): ${gateLine(facts.gates.verify)}`,
    ...(rollbackLine(facts) ? [`Rollback    ${rollbackLine(facts)}`] : []),
    `Secrets     the integration tests ${facts.integrationSecretSeen ? 'saw the Key Vault secret through env:' : 'did not see the Key Vault secret'}`,
    `Validation  ${facts.validation ? `${facts.validation.result}${facts.validation.answer ? ` · ${facts.validation.answer}` : ''}` : 'not reached'}`,
    `Time        ${formatDuration(options.totalMs)}`,
    `Report      ${options.report} (each run's report, log and summaries are in its run folder)`,
  ];
}

/** Writes result.json and report.html into `outDir`. */
export function writeDemoReport(outDir: string, report: DemoReport): { json: string; html: string } {
  const json = join(outDir, 'result.json');
  writeFileSync(
    json,
    `${JSON.stringify(
      {
        breakage: report.breakage ?? null,
        outcome: report.outcome,
        totalMs: report.totalMs,
        runs: report.runs.map((run) => ({
          title: run.title,
          folder: run.folder,
          report: run.report,
          ...run.record,
        })),
        facts: report.facts,
      },
      null,
      2,
    )}\n`,
  );
  const html = join(outDir, 'report.html');
  writeFileSync(html, reportHtml(outDir, report));
  return { json, html };
}

const styles = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1f24}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.5rem 0;display:block;overflow-x:auto}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code{font:12px/1.4 ui-monospace,monospace;word-break:break-all}
pre{font:12px/1.4 ui-monospace,monospace;background:#f6f8fa;padding:.5rem;white-space:pre-wrap;overflow-wrap:anywhere}
.Succeeded{color:#1a7f37}.Failed{color:#cf222e}.SucceededWithIssues{color:#9a6700}.Canceled{color:#8250df}.Skipped{color:#6e7781}
`;

/** The steps that failed, each with its message as the run's log shows it, line breaks kept. */
function failures(runs: readonly DemoRun[]): string {
  const failed = runs.flatMap((run) =>
    run.record.stages.flatMap((stage) =>
      stage.jobs.flatMap((job) =>
        job.steps
          .filter((step) => step.result === 'Failed')
          .map((step) => ({
            where: `${run.title} › ${stage.displayName} › ${step.displayName}`,
            message: step.message,
          })),
      ),
    ),
  );
  if (failed.length === 0) return '';
  return `<h2>Why it stopped</h2>\n${failed
    .map(
      (each) =>
        `<p class="Failed">✘ ${escapeHtml(each.where)}</p><pre>${escapeHtml(each.message || 'failed (see its log)')}</pre>`,
    )
    .join('\n')}`;
}

/** Whether production runs CI's digest; nothing promoted or deployed is said so, not as a "no". */
function productionVerdict(facts: ReadBack): string {
  if (!facts.image) return '<span class="Skipped">nothing built</span>';
  if (facts.production.identical) return '<span class="Succeeded">yes</span>';
  if (facts.production.previous?.runsNow)
    return '<span class="Failed">no: production runs the release it ran before again</span>';
  if (!facts.registries.prod.digest) return '<span class="Skipped">not promoted</span>';
  if (facts.pods.production.length === 0) return '<span class="Skipped">not deployed</span>';
  return '<span class="Failed">no: production runs another image</span>';
}

function reportHtml(outDir: string, report: DemoReport): string {
  const { facts } = report;
  const code = (text: string | undefined) => (text ? `<code>${escapeHtml(text)}</code>` : '—');
  const row = (cells: readonly string[]) => `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`;
  const runs = report.runs
    .map((run) =>
      row([
        `<a href="${escapeHtml(relative(outDir, run.report))}">${escapeHtml(run.title)}</a>`,
        `<span class="${run.record.result}">${resultMark[run.record.result]} ${resultWords[run.record.result]}</span>`,
        run.record.stages
          .map(
            (stage) =>
              `<span class="${stage.result}">${resultMark[stage.result]} ${escapeHtml(stage.displayName)}</span>`,
          )
          .join('<br>'),
        formatDuration(run.record.durationMs),
      ]),
    )
    .join('');
  const pods = (list: ReadBack['pods']['staging']) =>
    list.length === 0 ? 'none' : list.map((pod) => `${code(pod.pod)}: ${code(pod.image)}`).join('<br>');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AKS Release Flow demo: ${escapeHtml(report.outcome.status)}</title>
<style>${styles}</style></head><body>
<h1>AKS Release Flow demo · <span class="${report.outcome.status}">${escapeHtml(report.outcome.status)}</span></h1>
<p>${escapeHtml(report.outcome.headline)}${report.breakage ? ` · run with <code>--break ${escapeHtml(report.breakage)}</code>` : ''}</p>
<p>The example pipelines of <code>templates/examples/</code> for the sample app, run by the local pipeline runner with the tasks of ${code(report.vsix)}, on the emulated Azure (loopback only).</p>
<h2>Runs</h2>
<table><thead><tr><th>Pipeline</th><th>Result</th><th>Stages</th><th>Time</th></tr></thead><tbody>${runs}</tbody></table>
${failures(report.runs)}
<h2>What reached each place</h2>
<table><tbody>
${row(['Image CI pushed', facts.image ? `${code(`${facts.image.repository}:${facts.image.tag}`)} ${code(facts.image.digest)}` : 'none'])}
${row(['Non-production registry', `${code(facts.registries.nonprod.loginServer)} → ${code(facts.registries.nonprod.digest)}`])}
${row(['Production registry', `${code(facts.registries.prod.loginServer)} → ${facts.registries.prod.digest ? code(facts.registries.prod.digest) : 'not promoted'}`])}
${row(['Staging pods', pods(facts.pods.staging)])}
${row(['Production pods', pods(facts.pods.production)])}
${row(['What each overlay deployed', escapeHtml(overlays(facts))])}
${row(['Acceptance gate on staging', escapeHtml(gateLine(facts.gates.acceptance))])}
${row(['Verify on production', escapeHtml(gateLine(facts.gates.verify))])}
${facts.rollback ? row(['Rollback', escapeHtml(rollbackLine(facts) ?? '')]) : ''}
${row(['Production runs what CI built', productionVerdict(facts)])}
${row(['Integration tests saw the Key Vault secret (through env:)', facts.integrationSecretSeen ? 'yes' : 'no'])}
${row(['Manual validation', facts.validation ? escapeHtml(`${facts.validation.result}${facts.validation.answer ? ` · ${facts.validation.answer}` : ''}`) : 'not reached'])}
</tbody></table>
<details><summary>Demo timing</summary><p>${formatDuration(report.totalMs)} in all, packaging and the emulated Azure included.</p></details>
</body></html>
`;
}

/** What each environment's overlay made of the Deployment: replicas and settings, per cluster. */
function overlays(facts: ReadBack): string {
  const one = (name: string, deployment: ReadBack['deployments']['staging']) =>
    deployment
      ? `${name}: ${deployment.replicas} ${deployment.replicas === 1 ? 'replica' : 'replicas'}${deployment.environment ? `, ENVIRONMENT=${deployment.environment}` : ''}`
      : `${name}: not deployed`;
  return `${one('staging', facts.deployments.staging)} · ${one('production', facts.deployments.production)}`;
}
