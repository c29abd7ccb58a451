/**
 * What a run did, as `run.json` in its folder holds it: the timeline of stages, jobs and
 * steps with their results, the output variables (never secret ones), the artifacts, test
 * runs and summaries. A later run reads it back through a pipeline resource.
 */
import { readFileSync } from 'node:fs';
import type { StepStatus } from '../builtin/types';

/** A timeline record's result, in Azure Pipelines' words. */
export type RecordResult = StepStatus;

/** One step in the timeline. */
export interface StepRecord {
  readonly name?: string;
  readonly displayName: string;
  /** `Bash@3`, `AksDeploy@1`, `checkout`. */
  readonly task: string;
  result: RecordResult;
  /** The result message (one line), or why the step was skipped. */
  message: string;
  durationMs: number;
  /** The step's log as the agent shows it, secrets masked. */
  logLines: string[];
  /** Markdown summaries the step uploaded: their names and where the run keeps them. */
  summaries: { readonly name: string; readonly file: string }[];
  readonly startedAt?: string;
}

/** One job in the timeline. */
export interface JobRecord {
  readonly name: string;
  readonly displayName: string;
  readonly kind: 'job' | 'deployment' | 'server';
  result: RecordResult;
  message: string;
  durationMs: number;
  readonly steps: StepRecord[];
  /** Output variables by `<step>.<variable>` (with the deployment prefix), never secret ones. */
  readonly outputs: Record<string, string>;
  /** The environment and resource a deployment job deployed to. */
  readonly environment?: { readonly name: string; readonly resourceName?: string };
}

/** One stage in the timeline. */
export interface StageRecord {
  readonly name: string;
  readonly displayName: string;
  result: RecordResult;
  message: string;
  durationMs: number;
  readonly jobs: JobRecord[];
}

/** A test run published with `results.publish`. */
export interface TestRunRecord {
  readonly title: string;
  readonly format: string;
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly failedTests: readonly string[];
  readonly job: string;
}

/** The whole run. */
export interface RunRecord {
  /** The pipeline's name (its definition name in Azure Pipelines). */
  readonly pipeline: string;
  readonly file: string;
  readonly runId: number;
  /** Build.BuildNumber. */
  readonly buildNumber: string;
  readonly sourceBranch: string;
  readonly sourceVersion: string;
  /** Build.Reason: Manual, or ResourceTrigger when a pipeline resource's run triggered it. */
  readonly reason: string;
  /** The run that triggered this one, when a pipeline resource did. */
  readonly triggeredBy?: { readonly alias: string; readonly pipeline: string; readonly runId: number };
  readonly startedAt: string;
  result: RecordResult;
  durationMs: number;
  readonly stages: StageRecord[];
  readonly artifacts: string[];
  readonly testRuns: TestRunRecord[];
}

/** Reads a run's `run.json`. */
export function readRunRecord(file: string): RunRecord {
  return JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
}

/** Whether a result lets what depends on it go on (`succeeded()`). */
export function isSuccess(result: RecordResult): boolean {
  return result === 'Succeeded' || result === 'SucceededWithIssues';
}

// The agent's TaskResultUtil.MergeTaskResults: the worse result wins.
const severity: Readonly<Record<RecordResult, number>> = {
  Succeeded: 0,
  SucceededWithIssues: 1,
  Skipped: 2,
  Failed: 3,
  Canceled: 4,
};

/** The worse of two results. */
export function worse(a: RecordResult, b: RecordResult): RecordResult {
  return severity[b] > severity[a] ? b : a;
}
