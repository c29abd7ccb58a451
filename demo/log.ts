import type { StepRecord, StepStatus } from './pipeline';

/** Writes the pipeline log to a stream, in colour only when it is a terminal. */
export interface PipelineLog {
  /** A line of the demo's own narration. */
  say(line: string): void;
  /** A section the demo runs before the pipeline (packaging, Azure, the image). */
  phase(title: string, durationMs: number, details?: readonly string[]): void;
  stage(title: string): void;
  stepStarted(step: Pick<StepRecord, 'name' | 'task'>): void;
  stepFinished(step: StepRecord): void;
  /** Wraps text in a colour by status, or leaves it alone without a terminal. */
  paint(status: StepStatus | 'dim' | 'bold', text: string): string;
}

const colours: Record<StepStatus | 'dim' | 'bold', string> = {
  Succeeded: '32',
  SucceededWithIssues: '33',
  Failed: '31',
  Skipped: '2',
  NotAvailable: '33',
  AutoApproved: '36',
  dim: '2',
  bold: '1',
};

/** The mark a status gets in the log and the summary. */
export const statusMark: Record<StepStatus, string> = {
  Succeeded: '✔',
  SucceededWithIssues: '⚠',
  Failed: '✘',
  Skipped: '⊘',
  NotAvailable: '∅',
  AutoApproved: '✔',
};

/** How a status reads to a person. */
export const statusWords: Record<StepStatus, string> = {
  Succeeded: 'succeeded',
  SucceededWithIssues: 'succeeded with issues',
  Failed: 'failed',
  Skipped: 'skipped',
  NotAvailable: 'not available yet',
  AutoApproved: 'auto-approved by the demo',
};

/** `1.2 s`, or `340 ms` below a second. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A pipeline log on `stream` (stdout by default). */
export function createPipelineLog(stream: NodeJS.WriteStream = process.stdout): PipelineLog {
  const colour = stream.isTTY === true && !process.env.NO_COLOR;
  const paint = (status: StepStatus | 'dim' | 'bold', text: string) =>
    colour ? `\x1b[${colours[status]}m${text}\x1b[0m` : text;
  const write = (line: string) => stream.write(`${line}\n`);
  return {
    paint,
    say: write,
    phase(title, durationMs, details = []) {
      write(`${paint('Succeeded', '✔')} ${title} ${paint('dim', `(${formatDuration(durationMs)})`)}`);
      for (const detail of details) write(paint('dim', `    ${detail}`));
    },
    stage(title) {
      write('');
      write(paint('bold', `━━ Stage: ${title} ${'━'.repeat(Math.max(4, 64 - title.length))}`));
    },
    stepStarted(step) {
      write(`${paint('bold', '▶')} ${step.name} ${paint('dim', `· ${step.task}`)}`);
    },
    stepFinished(step) {
      // The harness's masked log: secrets already read ***. Raw stdout is never printed.
      for (const line of step.logLines) write(`  ${paint('dim', '│')} ${line}`);
      for (const note of step.notes) write(`  ${paint('dim', `· ${note}`)}`);
      // A multi-line message repeats the log's last lines: its first line is enough here.
      const message = step.message ? ` · ${step.message.split('\n')[0]}` : '';
      write(
        `  ${paint(step.status, `${statusMark[step.status]} ${statusWords[step.status]}`)} ` +
          `${paint('dim', `in ${formatDuration(step.durationMs)}`)}${message}`,
      );
    },
  };
}
