import { describePlace, type StepPlace } from '../shared/summary-file';
import { counted } from '../shared/wording';
import type { PromoteReport } from './promote';

/** The summary's title, which is also its file name: "Image promotion to contosoprod.azurecr.io". */
export function summaryTitle(targetRegistry: string): string {
  return `Image promotion to ${targetRegistry}`;
}

/**
 * A platform as one name everywhere: `linux/arm64/v8` is `linux/arm64`, as containerd
 * normalises it (v8 is arm64's only variant); other variants stay (`linux/arm/v7`).
 */
export function platformLabel(platform: string | undefined): string {
  if (!platform) return '(none)';
  return platform.replace(/^([^/]+)\/arm64\/v8$/, '$1/arm64');
}

/** `Promoted <ref>: 3 blobs copied (1.2 MiB), 0 mounted, 2 already there; 1 referrer.`: the log's arguments. */
export function promotedArguments(report: PromoteReport, imageReference: string): string[] {
  const blobs = report.blobs;
  return [
    imageReference,
    counted(blobs.copied, 'blob'),
    bytes(blobs.copiedBytes),
    String(blobs.mounted),
    String(blobs.present),
    counted(report.referrers.length, 'referrer'),
  ];
}

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
  /** The stage and environment the step runs in, for the heading. */
  readonly place?: StepPlace;
  readonly targetRegistry: string;
}

/** The markdown summary attached to the run: digests, referrers, bytes moved and skipped, requests and time. */
export function renderSummary(report: PromoteReport, facts: RunFacts): string {
  const place = describePlace(facts.place ?? {});
  const lines = [
    `## Image promoted to ${facts.targetRegistry}${place ? ` · ${place}` : ''}`,
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
      lines.push(`| ${platformLabel(child.platform)} | \`${child.digest}\` |`);
  }
  if (report.referrers.length > 0) {
    lines.push(
      '',
      'Referrers (signatures, SBOMs, attestations), copied with the image:',
      '',
      '| Referrer | Type | Refers to |',
      '| --- | --- | --- |',
    );
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
      `${counted(facts.requests, 'request')} (${facts.retries} retried) in ${(facts.durationMs / 1000).toFixed(1)} s.`,
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
