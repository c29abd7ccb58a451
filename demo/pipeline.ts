/** How a step ended, in the agent's words plus the demo's own two. */
export type StepStatus =
  | 'Succeeded'
  | 'SucceededWithIssues'
  | 'Failed'
  /** Not run because an earlier step failed, as a pipeline skips the rest of a stage. */
  | 'Skipped'
  /** Its task or its emulator does not exist yet: nothing ran, and the demo says so. */
  | 'NotAvailable'
  /** The manual validation, which the demo approves itself. */
  | 'AutoApproved';

/** A step's markdown summary (##vso[task.uploadsummary]). */
export interface StepSummary {
  readonly name: string;
  readonly content: string;
}

/** What one step did, for the log, the summary screen and the HTML report. */
export interface StepRecord {
  readonly stage: string;
  /** The step's display name, as the pipeline shows it. */
  readonly name: string;
  /** `Task@1`, or the agentless job's name. */
  readonly task: string;
  status: StepStatus;
  durationMs: number;
  /** The step's log as the agent shows it (masked). */
  logLines: string[];
  /** The task's own result message, or why the step did not run. */
  message: string;
  summaries: StepSummary[];
  /** Output variables (never secret ones) by name. */
  outputs: Record<string, string>;
  /** The demo's own remarks on the step, printed after its log (never a secret value). */
  notes: string[];
}

/** Whether a status lets the pipeline go on to the next step. */
export function passed(status: StepStatus): boolean {
  return status === 'Succeeded' || status === 'SucceededWithIssues' || status === 'AutoApproved';
}

/** The stages of the CD flow, named as templates/cd.yml names them. */
export const stages = {
  staging: 'Staging',
  acceptance: 'Acceptance',
  validation: 'Manual validation',
  promote: 'Promote to the production registry',
  production: 'Production',
} as const;

/** How the whole run ended. */
export interface RunOutcome {
  /** Succeeded only when every step ran and passed. */
  readonly status: 'Succeeded' | 'Failed' | 'Incomplete';
  readonly exitCode: number;
  readonly headline: string;
}

/**
 * A failed step fails the run (exit 1). Steps whose task or emulator is not there yet
 * leave it Incomplete: exit 0, since nothing that ran failed, but never called Succeeded.
 */
export function outcomeOf(steps: readonly StepRecord[]): RunOutcome {
  const failed = steps.find((step) => step.status === 'Failed');
  if (failed) {
    return { status: 'Failed', exitCode: 1, headline: `Failed at "${failed.name}" (${failed.stage})` };
  }
  const missing = steps.filter((step) => step.status === 'NotAvailable');
  if (missing.length > 0) {
    return {
      status: 'Incomplete',
      exitCode: 0,
      headline: `Every step that ran passed; ${missing.length} step(s) not available yet: ${missing.map((step) => step.name).join(', ')}`,
    };
  }
  return { status: 'Succeeded', exitCode: 0, headline: 'Every step passed' };
}
