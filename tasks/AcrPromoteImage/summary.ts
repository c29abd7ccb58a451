import type { PromoteReport } from './promote';

/** What the summary reports besides the promotion itself. */
export interface RunFacts {
  readonly sourceImage: string;
  readonly imageReference: string;
  readonly requests: number;
  readonly retries: number;
  readonly durationMs: number;
  readonly locked: boolean;
  /** Whether ARM imported the image server-side (the agent then copied only referrers). */
  readonly imported: boolean;
}

/** The markdown summary attached to the run: digests, referrers, bytes moved and skipped, requests and time. */
export function renderSummary(report: PromoteReport, facts: RunFacts): string {
  const lines = [
    '### Image promoted',
    '',
    `\`${facts.sourceImage}\` → \`${facts.imageReference}\``,
    '',
    `- Digest: \`${report.digest}\` (${report.mediaType})`,
    `- Tags written: ${list(report.tagsWritten)}; already in place: ${list(report.tagsUnchanged)}`,
    `- Method: ${facts.imported ? 'server-side import (referrers copied by the agent)' : 'copy through the agent'}`,
    ...(facts.locked ? ['- Locked against writes and deletes'] : []),
  ];
  if (report.children.length > 0) {
    lines.push('', '| Platform | Digest |', '| --- | --- |');
    for (const child of report.children)
      lines.push(`| ${child.platform ?? '(none)'} | \`${child.digest}\` |`);
  }
  if (report.referrers.length > 0) {
    lines.push('', '| Referrer | Type | Refers to |', '| --- | --- | --- |');
    for (const referrer of report.referrers) {
      lines.push(`| \`${referrer.digest}\` | ${referrer.artifactType ?? ''} | \`${referrer.subject}\` |`);
    }
  }
  const blobs = report.blobs;
  lines.push(
    '',
    '| | Blobs | Bytes |',
    '| --- | --: | --: |',
    `| Copied | ${blobs.copied} | ${bytes(blobs.copiedBytes)} |`,
    `| Mounted (no bytes moved) | ${blobs.mounted} | ${bytes(blobs.mountedBytes)} |`,
    `| Already at the target | ${blobs.present} | ${bytes(blobs.presentBytes)} |`,
    '',
    `Manifests written: ${report.manifestsWritten}, already present: ${report.manifestsPresent}. ` +
      `Requests: ${facts.requests} (${facts.retries} retried). Time: ${(facts.durationMs / 1000).toFixed(1)} s.`,
    '',
  );
  return lines.join('\n');
}

function list(items: readonly string[]): string {
  return items.length > 0 ? items.map((item) => `\`${item}\``).join(', ') : 'none';
}

function bytes(count: number): string {
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KiB`;
  return `${(count / 1024 / 1024).toFixed(1)} MiB`;
}
