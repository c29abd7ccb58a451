/**
 * How a built-in stops with one line: it throws a StepFailure anywhere in its run, and
 * `settle` turns it into the step's result. Anything else thrown is a defect; it still
 * becomes one line (its first), never a stack trace in the step's log.
 */
import type { BuiltinContext, BuiltinResult } from '../types';

/** A failure the user can act on: `message` says what is wrong and how to fix it, in one line. */
export class StepFailure extends Error {
  override name = 'StepFailure';
}

/** Runs a built-in's body and maps what it throws, or a cancellation, to the step's result. */
export async function settle(
  context: BuiltinContext,
  body: () => Promise<BuiltinResult>,
): Promise<BuiltinResult> {
  try {
    return await body();
  } catch (error) {
    if (context.signal.aborted) return { status: 'Canceled', message: 'The step was canceled.' };
    if (error instanceof StepFailure) return { status: 'Failed', message: error.message };
    const text = error instanceof Error ? error.message : String(error);
    return { status: 'Failed', message: text.split(/\r?\n/, 1)[0] || 'The step failed without a message.' };
  }
}
