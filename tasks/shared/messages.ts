import { format } from 'node:util';

/** A task.json `messages` table: key to a `%s`-style template. */
export type MessageTable = Readonly<Record<string, string>>;

/**
 * Renders a message the way task-lib's `loc` does (util.format over the template),
 * so that core code and tests can show a TaskError without the agent.
 */
export function renderMessage(
  messages: MessageTable,
  key: string,
  args: readonly (string | number)[],
): string {
  const template = messages[key];
  if (template === undefined) throw new Error(`No message "${key}" in the task's messages.`);
  return args.length > 0 ? format(template, ...args) : template;
}
