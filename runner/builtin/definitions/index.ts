/**
 * The definitions of Microsoft's built-in tasks, as their task.json files declare them.
 * The data lives in tasks.json beside this file (source and MIT licence in NOTICE.md); this
 * module only types it and finds a task in it.
 */
import { format } from 'node:util';
import type { TaskDefinition } from '../../model';
import data from './tasks.json';

/** A built-in's definition, with what the real task prints and the agent says about it. */
export interface BuiltinTaskData extends TaskDefinition {
  readonly id: string;
  /** `Major.Minor.Patch` of the task.json the data was taken from. */
  readonly version: string;
  readonly friendlyName: string;
  /** The task.json's path in the source repository. */
  readonly source: string;
  readonly deprecated?: boolean;
  readonly deprecationMessage?: string;
  /** task.json `messages`: the real task's wording, by key, with `%s` placeholders. */
  readonly messages?: Readonly<Record<string, string>>;
}

/** Where the data came from: repository, commit, licence. */
export const definitionsSource: {
  readonly repository: string;
  readonly commit: string;
  readonly license: string;
  readonly copyright: string;
} = data.source;

const tasks = data.tasks as readonly BuiltinTaskData[];

/** Every built-in's data, in the order of tasks.json. */
export function allTaskData(): readonly BuiltinTaskData[] {
  return tasks;
}

/** The data of `name@majorVersion`; a name the data lacks is a programming error. */
export function taskData(name: string, majorVersion: number): BuiltinTaskData {
  const found = tasks.find((task) => task.name === name && task.majorVersion === majorVersion);
  if (!found) throw new Error(`No built-in task definition for ${name}@${majorVersion}.`);
  return found;
}

/** The real task's message `key`, its `%s` placeholders filled in order, as task-lib's `loc` does. */
export function taskMessage(task: BuiltinTaskData, key: string, ...args: readonly unknown[]): string {
  const text = task.messages?.[key];
  if (text === undefined) throw new Error(`${task.name}@${task.majorVersion} has no message '${key}'.`);
  return format(text, ...args);
}

/**
 * The warnings the agent logs before a deprecated task runs (TaskManager.CheckForTaskDeprecation
 * in microsoft/azure-pipelines-agent): its own line, then the task.json's deprecationMessage.
 */
export function deprecationWarnings(task: BuiltinTaskData): readonly string[] {
  if (!task.deprecated) return [];
  const common = `Task '${task.friendlyName}' version ${task.majorVersion} (${task.name}@${task.majorVersion}) is deprecated.`;
  return task.deprecationMessage ? [common, task.deprecationMessage] : [common];
}
