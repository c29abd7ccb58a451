/**
 * The logging commands a built-in writes, formatted by task-lib's own TaskCommand so that
 * escaping (`%`, CR, LF, `]`, `;`) is exactly what a real task writes. The run reads them
 * back from the step's output like any task's.
 */
import { TaskCommand } from 'azure-pipelines-task-lib/taskcommand';

/** `##vso[task.logissue type=error|warning]message`: an error or warning in the step's log. */
export function issueCommand(type: 'error' | 'warning', message: string, source?: 'CustomerScript'): string {
  return new TaskCommand('task.logissue', source ? { type, source } : { type }, message).toString();
}

/** `##vso[task.setvariable ...]value`, as task-lib's `setVariable` writes it. */
export function setVariableCommand(
  name: string,
  value: string,
  options: { readonly isOutput?: boolean; readonly isSecret?: boolean } = {},
): string {
  return new TaskCommand(
    'task.setvariable',
    {
      variable: name,
      isOutput: String(options.isOutput ?? false),
      issecret: String(options.isSecret ?? false),
    },
    value,
  ).toString();
}

/** `##vso[task.prependpath]folder`: every later step finds its tools there first. */
export function prependPathCommand(folder: string): string {
  return new TaskCommand('task.prependpath', {}, folder).toString();
}

/** `##vso[task.uploadsummary]file`: a markdown file shown on the run's summary page. */
export function uploadSummaryCommand(markdownFile: string): string {
  return new TaskCommand('task.uploadsummary', {}, markdownFile).toString();
}

/** Any other command with its properties, in the order given; empty values are left out, as task-lib does. */
export function command(name: string, properties: Readonly<Record<string, string>>, message = ''): string {
  return new TaskCommand(name, { ...properties }, message).toString();
}
