import * as path from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';
import { quotedFirstLine, redactKnownSecrets } from './known-secrets';
import { TaskError, TaskErrors } from './task-error';

/**
 * The imperative shell every task entry file runs in.
 *
 * It points task-lib's localisation at the task.json that sits beside the bundle,
 * runs `main`, and turns whatever escapes into the task result: a TaskError becomes
 * its one localised line, a TaskErrors one line per problem, and anything else one
 * line that asks for a debug run. Stack traces only ever go to debug output.
 */
export async function runTask(main: () => Promise<void>): Promise<void> {
  tl.setResourcePath(path.join(__dirname, 'task.json'));
  const fail = (error: unknown): void => reportFailure(error);
  // With stdout gone there is no one left to report to; writing the failure would only
  // raise the same error again, forever.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(1);
  });
  // task-lib's own handlers print the stack trace as an error line (and leave exit code 0):
  // this shell's handler is the only one.
  process.removeAllListeners('uncaughtException');
  process.removeAllListeners('unhandledRejection');
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  try {
    await main();
  } catch (error) {
    fail(error);
  }
}

/** Localises a TaskError through the task's own task.json messages. */
export function localise(error: TaskError): string {
  return tl.loc(error.key, ...error.args);
}

function reportFailure(error: unknown): void {
  process.exitCode = 1;
  if (error instanceof TaskErrors) {
    for (const each of error.errors) {
      debugCause(each);
      tl.error(localise(each), tl.IssueSource.TaskInternal);
    }
    tl.setResult(tl.TaskResult.Failed, '');
    return;
  }
  if (error instanceof TaskError) {
    debugCause(error);
    tl.setResult(tl.TaskResult.Failed, localise(error));
    return;
  }
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.stack) tl.debug(redactKnownSecrets(error.stack));
  tl.setResult(tl.TaskResult.Failed, tl.loc('UnexpectedFailure', quotedFirstLine(detail, 300)));
}

function debugCause(error: TaskError): void {
  const cause = error.cause;
  if (cause instanceof Error) tl.debug(redactKnownSecrets(`cause: ${cause.stack ?? cause.message}`));
}
