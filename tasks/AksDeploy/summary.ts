import { describePlace, type StepPlace } from '../shared/summary-file';
import { describeChanges } from './diff';
import type { WorkloadDiagnosis } from './diagnosis';
import type { AppliedObject, RolloutResult, RunResult } from './run';

/** `Kind/namespace/name` per line (`Kind//name` when cluster-scoped): the `appliedObjects` output. */
export function appliedObjectsOutput(objects: readonly AppliedObject[]): string {
  return objects
    .filter((o) => o.action !== 'pruned')
    .map((o) => `${o.kind}/${o.namespace ?? ''}/${o.name}`)
    .join('\n');
}

/** Text for a Markdown table cell: pipes escaped, line breaks as spaces. */
export const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** Where the deploy went, for the heading and the file name. */
export interface DeployTarget {
  /** The cluster as the user knows it: the AKS cluster's name, or the API server's host. */
  readonly cluster: string;
  /** The namespace for objects whose manifest names none. */
  readonly namespace: string;
  readonly place: StepPlace;
  readonly dryRun: boolean;
  /** `namespace/name` of the Secret that records this pipeline's apply set. */
  readonly applySetRecord: string;
}

/** The summary's title, which is also its file name: "Deploy to AKS (staging)". */
export function summaryTitle(target: DeployTarget): string {
  const where = target.place.environment ?? target.place.stage ?? target.namespace;
  return `Deploy to AKS${target.dryRun ? ', dry run' : ''} (${where})`;
}

const statusWords: Record<RunResult['rolloutStatus'], string> = {
  Succeeded: '✅ succeeded',
  Failed: '❌ failed',
  RolledBack: '❌ failed, rolled back',
  Skipped: '✅ applied, rollouts not waited on',
  DryRun: '🔍 dry run',
};

const outcomeWords: Record<RolloutResult['outcome'], string> = {
  done: '✅ rolled out',
  failed: '❌ failed',
  timedOut: '❌ timed out',
  rolledBack: '↩️ rolled back',
  notRolledBack: '❌ not rolled back',
};

/** `Deployment orders/api` for the key `Deployment/orders/api`, and `Namespace orders` for `Namespace//orders`. */
export function readableObject(key: string): string {
  const [kind, namespace, ...name] = key.split('/');
  return namespace ? `${kind} ${namespace}/${name.join('/')}` : `${kind} ${name.join('/')}`;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * The run summary: a heading that tells this deploy from every other one in the run
 * (status, namespace, cluster, environment, stage), the objects in manifest order, each
 * rollout, and for a failure why it failed and what the rollback restored.
 */
export function summaryMarkdown(result: RunResult, target: DeployTarget): string {
  const place = describePlace(target.place);
  const lines = [
    `## Deploy to AKS: ${statusWords[result.rolloutStatus]} · ${cell(target.namespace)} on ${cell(target.cluster)}${place ? ` · ${cell(place)}` : ''}`,
  ];
  if (result.diagnoses && result.diagnoses.length > 0) lines.push('', ...whyItFailed(result));
  if (result.rollouts.length > 0) {
    lines.push('', '### Rollouts', '', '| Workload | Result | Took | Detail |', '|---|---|---:|---|');
    for (const r of result.rollouts) {
      const took =
        r.rollbackMs !== undefined
          ? `${seconds(r.durationMs)} + ${seconds(r.rollbackMs)}`
          : seconds(r.durationMs);
      lines.push(
        `| ${cell(readableObject(r.workload))} | ${outcomeWords[r.outcome]} | ${took} | ${cell(r.message)} |`,
      );
    }
  }
  lines.push(
    '',
    `### Objects (${result.objects.length})`,
    '',
    '| Kind | Name | Namespace | Action |',
    '|---|---|---|---|',
    ...result.objects.map(
      (o) => `| ${cell(o.kind)} | ${cell(o.name)} | ${cell(o.namespace ?? '–')} | ${o.action} |`,
    ),
  );
  const changed = result.objects.filter((o) => o.changes && o.changes.length > 0);
  if (changed.length > 0) {
    lines.push('', '### What would change', '');
    for (const o of changed) {
      lines.push(`${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}:`, '', '```');
      lines.push(...describeChanges(o.changes!).map((line) => fenced(line.trimStart())), '```', '');
    }
  }
  lines.push(
    '',
    `The Secret \`${cell(target.applySetRecord)}\` is this pipeline's ApplySet record: the list of what it deployed here, which \`prune\` compares the next deploy against.`,
    '',
  );
  return lines.join('\n');
}

/** Per failed workload: the reason, the pods' problems, the log tail, the Warning events, the rollback. */
function whyItFailed(result: RunResult): string[] {
  const lines = ['### Why it failed'];
  for (const diagnosis of result.diagnoses ?? []) {
    const rollout = result.rollouts.find((r) => r.workload === diagnosis.workload);
    lines.push(
      '',
      `#### ${cell(readableObject(diagnosis.workload))}: ${cell(diagnosis.reason)}`,
      '',
      `Rollout: ${cell(diagnosis.verdict)}`,
    );
    if (diagnosis.problems.length > 0) lines.push('', ...diagnosis.problems.map((line) => `- ${cell(line)}`));
    for (const tail of diagnosis.logs) {
      lines.push(
        '',
        `Last ${tail.lines.length === 1 ? 'log line' : `${tail.lines.length} log lines`} of pod \`${tail.pod}\`, container \`${tail.container}\`:`,
        '',
        '```',
        ...tail.lines.map(fenced),
        '```',
      );
    }
    lines.push('', ...warningsTable(diagnosis));
    if (rollout?.restored) {
      lines.push(
        '',
        `Rolled back to revision ${rollout.restored.revision}, which is ready: ${rollout.restored.images.map((image) => `\`${cell(image)}\``).join(', ') || 'no containers'}.`,
      );
    } else if (rollout?.outcome === 'notRolledBack') {
      lines.push('', cell(`${rollout.message[0]!.toUpperCase()}${rollout.message.slice(1)}.`));
    }
  }
  return lines;
}

function warningsTable(diagnosis: WorkloadDiagnosis): string[] {
  if (diagnosis.warnings.length === 0) return ['No Warning events.'];
  return [
    'Warning events, oldest first:',
    '',
    '| Last seen | Reason | Object | Message |',
    '|---|---|---|---|',
    ...diagnosis.warnings.map(
      (event) =>
        `| ${cell(event.time.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC'))} | ${cell(event.reason)}${event.count > 1 ? ` (×${event.count})` : ''} | ${cell(event.object)} | ${cell(event.message)} |`,
    ),
  ];
}

// A line that starts a fence would close the code block early.
function fenced(line: string): string {
  return line.replace(/^(\s*)```/, '$1ˋˋˋ');
}
