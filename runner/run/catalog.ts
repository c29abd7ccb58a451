/**
 * The tasks a run can use: this extension's, unpacked from its vsix (each folder holds its
 * task.json and bundle, as the agent downloads them), and the runner's built-ins standing
 * in for Microsoft's. One catalog answers both the compile-time checks and the run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuiltinTask } from '../builtin/types';
import type { TaskCatalog, TaskDefinition, TaskInputDefinition } from '../model';

/** One of this extension's tasks, as unpacked from the vsix. */
export interface ExtensionTask {
  readonly kind: 'extension';
  readonly definition: TaskDefinition;
  readonly folder: string;
  /** The execution handlers task.json declares, by name (`Node24`, `Node20_1`): their entry files. */
  readonly handlers: Readonly<Record<string, string>>;
  /** `prejobexecution` handlers: run before the job's first step. */
  readonly preJobHandlers: Readonly<Record<string, string>>;
  /** `postjobexecution` handlers: run after the job's last step. */
  readonly postJobHandlers: Readonly<Record<string, string>>;
  /** task.json `restrictions`, which the agent enforces on the task's commands. */
  readonly restrictions?: {
    readonly commands?: { readonly mode?: string };
    readonly settableVariables?: { readonly allowed?: readonly string[] };
  };
}

/** A runnable task: an extension task or a built-in. */
export type RunnableTask = ExtensionTask | { readonly kind: 'builtin'; readonly task: BuiltinTask };

/** A catalog for the checks that also says how to run each task. */
export interface RunnerTaskCatalog extends TaskCatalog {
  runnable(name: string, majorVersion: number): RunnableTask | undefined;
}

interface TaskJson {
  id?: string;
  name?: string;
  version?: { Major?: number };
  inputs?: {
    name: string;
    aliases?: string[];
    type?: string;
    required?: boolean;
    defaultValue?: string | boolean | number;
    options?: Record<string, string>;
    properties?: { EditableOptions?: string };
    visibleRule?: string;
  }[];
  outputVariables?: { name: string }[];
  execution?: Record<string, { target?: string }>;
  prejobexecution?: Record<string, { target?: string }>;
  postjobexecution?: Record<string, { target?: string }>;
  instanceNameFormat?: string;
  restrictions?: ExtensionTask['restrictions'];
  runsOn?: string[];
}

/** Reads every task folder (a folder holding task.json) under `tasksFolder`. */
export function readExtensionTasks(tasksFolder: string): ExtensionTask[] {
  if (!existsSync(tasksFolder)) return [];
  return readdirSync(tasksFolder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(tasksFolder, entry.name, 'task.json')))
    .map((entry) => {
      const folder = join(tasksFolder, entry.name);
      const json = JSON.parse(readFileSync(join(folder, 'task.json'), 'utf8')) as TaskJson;
      const handlersOf = (declared: Record<string, { target?: string }> | undefined) =>
        Object.fromEntries(
          Object.entries(declared ?? {})
            .filter(([, handler]) => typeof handler.target === 'string')
            .map(([name, handler]) => [name, join(folder, handler.target!)]),
        );
      return {
        kind: 'extension' as const,
        definition: {
          name: json.name ?? entry.name,
          ...(json.id ? { id: json.id } : {}),
          majorVersion: json.version?.Major ?? 0,
          inputs: (json.inputs ?? []).map(inputDefinition),
          outputVariables: (json.outputVariables ?? []).map((variable) => variable.name),
          ...(json.instanceNameFormat ? { instanceNameFormat: json.instanceNameFormat } : {}),
          runsOn: ['agent'],
        },
        folder,
        handlers: handlersOf(json.execution),
        preJobHandlers: handlersOf(json.prejobexecution),
        postJobHandlers: handlersOf(json.postjobexecution),
        ...(json.restrictions ? { restrictions: json.restrictions } : {}),
      };
    });
}

function inputDefinition(input: NonNullable<TaskJson['inputs']>[number]): TaskInputDefinition {
  return {
    name: input.name,
    ...(input.aliases?.length ? { aliases: input.aliases } : {}),
    type: input.type ?? 'string',
    ...(input.required ? { required: true } : {}),
    ...(input.defaultValue !== undefined && input.defaultValue !== ''
      ? { defaultValue: String(input.defaultValue) }
      : {}),
    ...(input.options ? { options: input.options } : {}),
    ...(/^true$/i.test(input.properties?.EditableOptions ?? '') ? { editableOptions: true } : {}),
    ...(input.visibleRule ? { visibleRule: input.visibleRule } : {}),
  };
}

/**
 * A catalog over the extension's tasks and the built-ins. A step may name a task by its
 * name (`AksDeploy`), by its id, or by its full name (`publisher.extension.AksDeploy.AksDeploy`);
 * an extension task wins over a built-in of the same name.
 */
export function createTaskCatalog(
  extensionTasks: readonly ExtensionTask[],
  builtins: readonly BuiltinTask[],
): RunnerTaskCatalog {
  const entries: RunnableTask[] = [
    ...extensionTasks,
    ...builtins.map((task) => ({ kind: 'builtin' as const, task })),
  ];
  const definitionOf = (entry: RunnableTask) =>
    entry.kind === 'extension' ? entry.definition : entry.task.definition;
  const matches = (entry: RunnableTask, name: string, major: number) => {
    const definition = definitionOf(entry);
    if (definition.majorVersion !== major) return false;
    const wanted = name.toLowerCase();
    const own = definition.name.toLowerCase();
    return wanted === own || wanted === definition.id?.toLowerCase() || wanted.endsWith(`.${own}`);
  };
  const runnable = (name: string, major: number) => entries.find((entry) => matches(entry, name, major));
  return {
    runnable,
    find: (name, major) => {
      const entry = runnable(name, major);
      return entry ? definitionOf(entry) : undefined;
    },
    names: () =>
      entries.map((entry) => `${definitionOf(entry).name}@${definitionOf(entry).majorVersion}`).sort(),
  };
}
