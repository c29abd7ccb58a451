import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';

/**
 * The step summaries a run's Extensions tab shows. The agent titles each one with the
 * uploaded file's name, so the file is named for the reader ("Deploy to AKS (staging).md"),
 * not for the machine, and the place a step ran (stage, environment) is read once here.
 */

/** Where a step runs, as the agent tells it: for summary headings and names. */
export interface StepPlace {
  /** `System.StageDisplayName`, when the job runs in a named stage. */
  readonly stage?: string;
  /** `Environment.Name`, in a deployment job. */
  readonly environment?: string;
}

/** Reads the stage and environment of the running step from the agent's variables. */
export function readStepPlace(): StepPlace {
  const stage = tl.getVariable('System.StageDisplayName')?.trim();
  const environment = tl.getVariable('Environment.Name')?.trim();
  return {
    // A pipeline without stages runs in one implicit stage the service calls __default.
    ...(stage && stage !== '__default' ? { stage } : {}),
    ...(environment ? { environment } : {}),
  };
}

/** "environment staging · stage Staging": the place as a heading shows it, or '' when unknown. */
export function describePlace(place: StepPlace): string {
  return [
    ...(place.environment ? [`environment ${place.environment}`] : []),
    ...(place.stage ? [`stage ${place.stage}`] : []),
  ].join(' · ');
}

/** The longest summary title kept: the tab shows it on one line. */
const maxTitleLength = 80;

/**
 * A file name that reads as `title` on every agent: characters Windows or Linux refuse in
 * a file name (and control characters) become '-', runs of spaces one space, and the name
 * is cut to a length a tab heading can show.
 */
export function summaryFileName(title: string): string {
  const safe = title
    .replace(/[<>:"/\\|?*\u0000-\u001f\u007f]/g, '-')
    .replace(/\s+/g, ' ')
    .trim()
    // Windows refuses a name that ends with a dot or a space.
    .replace(/[. ]+$/, '');
  return `${[...safe].slice(0, maxTitleLength).join('').trimEnd() || 'Summary'}.md`;
}

/**
 * Writes `markdown` as `<title>.md` in a summaries folder of the job's temporary directory
 * and returns its path. The agent reads an uploaded file after the command, so a second
 * step of the job with the same title never overwrites the first one's file: it gets
 * `<title> (2).md`.
 */
export function writeSummaryFile(tempDirectory: string, title: string, markdown: string): string {
  const folder = join(tempDirectory, 'step-summaries');
  mkdirSync(folder, { recursive: true });
  const name = summaryFileName(title);
  for (let copy = 1; ; copy++) {
    const file = join(folder, copy === 1 ? name : name.replace(/\.md$/, ` (${copy}).md`));
    if (existsSync(file)) continue;
    writeFileSync(file, markdown, { mode: 0o600, flag: 'wx' });
    return file;
  }
}

/** Writes the summary under its title and asks the agent to attach it to the run. */
export function uploadSummary(title: string, markdown: string): string {
  const file = writeSummaryFile(tl.getVariable('Agent.TempDirectory') || process.cwd(), title, markdown);
  tl.uploadSummary(file);
  return file;
}
