import { describePlace, type StepPlace } from '../shared/summary-file';
import type { Outcome } from './select';

/** The summary's title, which is also its file name: "Key Vault secrets (orders-staging-kv)". */
export function summaryTitle(vaultName: string): string {
  return `Key Vault secrets (${vaultName})`;
}

/**
 * The run's summary as markdown: one row per variable with its source secret, the version
 * read, and what happened. It never holds a value.
 */
export function renderSummary(
  vaultName: string,
  outcomes: readonly Outcome[],
  place: StepPlace = {},
): string {
  const counts = (status: Outcome['status']): number =>
    outcomes.filter((each) => each.status === status).length;
  const rows = outcomes.map(
    (each) =>
      `| ${cell(each.variable)} | ${cell(each.secretName)} | ${each.version ? `\`${each.version}\`` : ''} | ${each.status} |`,
  );
  return [
    `### Key Vault secrets from \`${cell(vaultName)}\`${describePlace(place) ? ` · ${cell(describePlace(place))}` : ''}`,
    '',
    `${counts('set')} set, ${counts('skipped')} skipped, ${counts('failed')} failed. Values are never shown.`,
    '',
    '| Variable | Secret | Version | Status |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

function cell(text: string): string {
  return text.replace(/[|`\\]/g, (char) => `\\${char}`);
}
