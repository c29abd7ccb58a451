/**
 * The run's log: what the terminal shows while a pipeline runs (stages, jobs, steps and
 * their output, secrets already masked), and the same text, without colour, in the run
 * folder's log.txt.
 */
import { appendFileSync } from 'node:fs';
import type { JobRecord, RecordResult, RunRecord, StageRecord, StepRecord } from './record';

/** The events a run reports as it goes. Every text reaching it is already masked. */
export interface RunLog {
  runStarted(record: RunRecord, folder: string): void;
  stageStarted(name: string, displayName: string): void;
  stageFinished(record: StageRecord): void;
  jobStarted(name: string, displayName: string, detail: string): void;
  jobFinished(record: JobRecord): void;
  stepStarted(displayName: string, task: string): void;
  /** One line of the running step's output. */
  stepLine(line: string): void;
  stepFinished(record: StepRecord): void;
  /** A line of the runner's own (why something was skipped, what was downloaded...). */
  note(line: string): void;
  runFinished(record: RunRecord): void;
}

const colours: Record<RecordResult | 'dim' | 'bold', string> = {
  Succeeded: '32',
  SucceededWithIssues: '33',
  Failed: '31',
  Canceled: '35',
  Skipped: '2',
  dim: '2',
  bold: '1',
};

/** The mark a result gets. */
export const resultMark: Record<RecordResult, string> = {
  Succeeded: '✔',
  SucceededWithIssues: '⚠',
  Failed: '✘',
  Canceled: '■',
  Skipped: '⊘',
};

/** How a result reads in a sentence. */
export const resultWords: Record<RecordResult, string> = {
  Succeeded: 'succeeded',
  SucceededWithIssues: 'succeeded with issues',
  Failed: 'failed',
  Canceled: 'canceled',
  Skipped: 'skipped',
};

/** `1.2 s`, or `340 ms` below a second. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A log that writes to `stream` (colour when it is a terminal) and, once the run has a folder, to its log.txt. */
export function terminalLog(stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout): RunLog {
  const colour = stream.isTTY === true && !process.env.NO_COLOR;
  let file: string | undefined;
  const paint = (style: RecordResult | 'dim' | 'bold', text: string) =>
    colour ? `\x1b[${colours[style]}m${text}\x1b[0m` : text;
  const write = (line: string, plain: string = line) => {
    stream.write(`${line}\n`);
    if (file) appendFileSync(file, `${plain}\n`);
  };
  const both = (style: RecordResult | 'dim' | 'bold', text: string) => write(paint(style, text), text);
  const ending = (result: RecordResult, durationMs: number, message: string) => {
    const text = `${resultMark[result]} ${resultWords[result]}`;
    const after = ` in ${formatDuration(durationMs)}${message ? ` · ${message.split('\n')[0]}` : ''}`;
    return { painted: `${paint(result, text)}${paint('dim', after)}`, plain: `${text}${after}` };
  };
  return {
    runStarted(record, folder) {
      file = `${folder}/log.txt`;
      both(
        'bold',
        `Pipeline ${record.pipeline} (${record.file}), run ${record.runId}: ${record.buildNumber}`,
      );
      if (record.triggeredBy) {
        write(
          `Triggered by ${record.triggeredBy.pipeline} run ${record.triggeredBy.runId} (pipeline resource '${record.triggeredBy.alias}')`,
        );
      }
    },
    stageStarted(name, displayName) {
      write('');
      const title = displayName === name ? name : `${displayName} (${name})`;
      both('bold', `━━ Stage ${title} ${'━'.repeat(Math.max(4, 60 - title.length))}`);
    },
    stageFinished(record) {
      const end = ending(record.result, record.durationMs, record.message);
      write(`━━ ${end.painted}`, `━━ ${end.plain}`);
    },
    jobStarted(name, displayName, detail) {
      const title = displayName === name ? name : `${displayName} (${name})`;
      write(
        `${paint('bold', `■ Job ${title}`)}${paint('dim', detail ? ` · ${detail}` : '')}`,
        `■ Job ${title}${detail ? ` · ${detail}` : ''}`,
      );
    },
    jobFinished(record) {
      const end = ending(record.result, record.durationMs, record.message);
      write(`■ ${end.painted}`, `■ ${end.plain}`);
    },
    stepStarted(displayName, task) {
      write(
        `${paint('bold', '▶')} ${displayName} ${paint('dim', `· ${task}`)}`,
        `▶ ${displayName} · ${task}`,
      );
    },
    stepLine(line) {
      write(`  ${paint('dim', '│')} ${line}`, `  │ ${line}`);
    },
    stepFinished(record) {
      const end = ending(record.result, record.durationMs, record.message);
      write(`  ${end.painted}`, `  ${end.plain}`);
    },
    note(line) {
      write(paint('dim', `  · ${line}`), `  · ${line}`);
    },
    runFinished(record) {
      write('');
      const end = ending(record.result, record.durationMs, '');
      write(
        `Run ${record.runId} of ${record.pipeline} ${end.painted}`,
        `Run ${record.runId} of ${record.pipeline} ${end.plain}`,
      );
    },
  };
}

/** A log that shows nothing: for runs whose result is all that matters. */
export const silentLog: RunLog = {
  runStarted: () => undefined,
  stageStarted: () => undefined,
  stageFinished: () => undefined,
  jobStarted: () => undefined,
  jobFinished: () => undefined,
  stepStarted: () => undefined,
  stepLine: () => undefined,
  stepFinished: () => undefined,
  note: () => undefined,
  runFinished: () => undefined,
};
