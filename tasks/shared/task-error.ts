/**
 * The one error type a task reports to the user.
 *
 * `key` names a message in the task's task.json `messages` (shared keys come from
 * tasks/shared/messages.json and are merged in at build time), so every line the
 * user reads is localisable. `args` fill its `%s` slots. The message itself always
 * says what is wrong *and* how to fix it; `cause` keeps the underlying error for
 * debug output only.
 */
export class TaskError extends Error {
  readonly key: string;
  readonly args: readonly (string | number)[];
  override readonly cause?: unknown;

  constructor(key: string, args: readonly (string | number)[] = [], cause?: unknown) {
    super(`${key}: ${args.join(', ')}`);
    this.name = 'TaskError';
    this.key = key;
    this.args = args;
    this.cause = cause;
  }
}

/** Several independent problems, reported together, one line each. */
export class TaskErrors extends Error {
  readonly errors: readonly TaskError[];

  constructor(errors: readonly TaskError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'TaskErrors';
    this.errors = errors;
  }
}

export function isTaskError(error: unknown): error is TaskError {
  return error instanceof TaskError;
}
