import { describeChanges } from './diff';
import type { AppliedObject, RunResult } from './run';

/** `Kind/namespace/name` per line (`Kind//name` when cluster-scoped): the `appliedObjects` output. */
export function appliedObjectsOutput(objects: readonly AppliedObject[]): string {
  return objects
    .filter((o) => o.action !== 'pruned')
    .map((o) => `${o.kind}/${o.namespace ?? ''}/${o.name}`)
    .join('\n');
}

/** Text for a Markdown table cell: pipes escaped, line breaks as spaces. */
export const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** The run summary: objects (kind, name, namespace, action) and each rollout with its duration. */
export function summaryMarkdown(result: RunResult, dryRun: boolean): string {
  const lines = [
    `## Deploy to AKS${dryRun ? ' (dry run)' : ''}: ${result.rolloutStatus}`,
    '',
    '| Kind | Name | Namespace | Action |',
    '|---|---|---|---|',
    ...result.objects.map(
      (o) => `| ${cell(o.kind)} | ${cell(o.name)} | ${cell(o.namespace ?? '')} | ${o.action} |`,
    ),
  ];
  if (result.rollouts.length > 0) {
    lines.push('', '| Workload | Rollout | Duration | Detail |', '|---|---|---|---|');
    for (const r of result.rollouts) {
      lines.push(
        `| ${cell(r.workload)} | ${r.outcome} | ${(r.durationMs / 1000).toFixed(1)} s | ${cell(r.message)} |`,
      );
    }
  }
  const changed = result.objects.filter((o) => o.changes && o.changes.length > 0);
  if (changed.length > 0) {
    lines.push('', '### What would change', '');
    for (const o of changed) {
      lines.push(`${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}:`, '', '```');
      lines.push(...describeChanges(o.changes!).map((line) => line.trimStart()), '```', '');
    }
  }
  return lines.join('\n') + '\n';
}
