// Checks every `task:` step against the task it names: the task exists at that major
// version, its inputs are real input names, every required input is given (required
// inputs hidden by their visibleRule excepted), and closed pickLists get a listed value.
// This extension's tasks are read from their task.json; Microsoft's from the schema.
import { wholeTemplateExpression } from '../../runner/expressions';
import type { TemplateValue } from './yaml-data';
import { extensionTasks, isClosedPickList, type TaskInput, type TaskManifest } from './schema';

/** A task step found in a document, with where it is. */
export interface TaskStep {
  path: string;
  task: string;
  inputs: Record<string, TemplateValue>;
}

/** Every step with a `task:` key in a document, depth first. */
export function taskSteps(node: TemplateValue, path = ''): TaskStep[] {
  if (Array.isArray(node)) return node.flatMap((item, index) => taskSteps(item, `${path}[${index}]`));
  if (node === null || typeof node !== 'object') return [];
  if (typeof node.task === 'string') {
    const inputs =
      node.inputs !== null && typeof node.inputs === 'object' && !Array.isArray(node.inputs)
        ? node.inputs
        : {};
    return [{ path, task: node.task, inputs: inputs as Record<string, TemplateValue> }];
  }
  return Object.entries(node).flatMap(([key, value]) => taskSteps(value, path ? `${path}.${key}` : key));
}

interface KnownTask {
  inputs: Map<string, TaskInput>;
}

type SchemaTaskEntry = {
  properties: {
    task: { pattern: string };
    inputs?: {
      properties?: Record<string, { enum?: string[]; type?: string; aliases?: string[] }>;
      required?: string[];
    };
  };
};

/** The tasks a pipeline may name, by `Name@Major`: this extension's and the schema's. */
export function taskCatalog(
  schema: { [key: string]: unknown },
  extension: TaskManifest[] = extensionTasks(),
) {
  const catalog = new Map<string, KnownTask>();
  for (const entry of (schema as { definitions: { task: { anyOf: SchemaTaskEntry[] } } }).definitions.task
    .anyOf) {
    const reference = entry.properties.task.pattern.replace(/^\^|\$$/g, '');
    const required = new Set(entry.properties.inputs?.required ?? []);
    const inputs = new Map<string, TaskInput>();
    for (const [name, input] of Object.entries(entry.properties.inputs?.properties ?? {})) {
      const described: TaskInput = {
        name,
        type: input.enum ? 'pickList' : (input.type ?? 'string'),
        required: required.has(name),
        ...(input.enum ? { options: Object.fromEntries(input.enum.map((value) => [value, value])) } : {}),
      };
      inputs.set(name, described);
      for (const alias of input.aliases ?? []) inputs.set(alias, described);
    }
    catalog.set(reference.toLowerCase(), { inputs });
  }
  // This extension's own task.json wins over anything of the same name.
  for (const manifest of extension) {
    const inputs = new Map(manifest.inputs.map((input) => [input.name, input]));
    for (const input of manifest.inputs) for (const alias of input.aliases ?? []) inputs.set(alias, input);
    catalog.set(`${manifest.name}@${manifest.version.Major}`.toLowerCase(), { inputs });
  }
  return catalog;
}

/** Whether a value is only known when the pipeline runs (a macro or expression). */
function isDeferred(value: string): boolean {
  return (
    value.includes('$(') ||
    value.includes('$[') ||
    wholeTemplateExpression(value) !== undefined ||
    value.includes('${{')
  );
}

// visibleRule: `name = value`, `name != value`, joined by && or ||.
function isVisible(rule: string | undefined, valueOf: (name: string) => string): boolean {
  if (!rule) return true;
  const evaluateClause = (clause: string) => {
    const match = /^\s*([A-Za-z0-9_.]+)\s*(!=|=)\s*(.*?)\s*$/.exec(clause);
    if (!match) return true;
    const actual = valueOf(match[1]).toLowerCase();
    const expected = match[3].replace(/^"(.*)"$/, '$1').toLowerCase();
    return match[2] === '=' ? actual === expected : actual !== expected;
  };
  return rule.includes('||') ? rule.split('||').some(evaluateClause) : rule.split('&&').every(evaluateClause);
}

/**
 * Problems with the task steps of a document, one line each. `expanded` says the document
 * has no compile-time expressions left, so required inputs and pickLists can be judged.
 */
export function checkTaskSteps(
  document: TemplateValue,
  catalog: ReturnType<typeof taskCatalog>,
  expanded: boolean,
): string[] {
  const problems: string[] = [];
  for (const step of taskSteps(document)) {
    const where = `${step.path} (${step.task})`;
    const known = catalog.get(step.task.toLowerCase());
    if (known === undefined) {
      const name = step.task.split('@')[0].toLowerCase();
      const versions = [...catalog.keys()].filter((reference) => reference.startsWith(`${name}@`));
      problems.push(
        `${where}: no such task${versions.length ? `; versions that exist: ${versions.join(', ')}` : ''}`,
      );
      continue;
    }
    const given = (name: string) => {
      const value = step.inputs[name];
      return value === undefined || value === null ? undefined : String(value);
    };
    const valueOf = (name: string) => given(name) ?? known.inputs.get(name)?.defaultValue ?? '';
    for (const name of Object.keys(step.inputs)) {
      if (name.startsWith('${{')) continue;
      if (!known.inputs.has(name)) {
        problems.push(
          `${where}: unknown input '${name}'; inputs: ${[...new Set([...known.inputs.values()].map((i) => i.name))].join(', ')}`,
        );
      }
    }
    for (const input of new Set(known.inputs.values())) {
      const value = given(input.name);
      if (value !== undefined && isDeferred(value)) continue;
      if (value !== undefined && isClosedPickList(input) && !Object.keys(input.options!).includes(value)) {
        problems.push(
          `${where}: input '${input.name}' is '${value}'; accepted: ${Object.keys(input.options!).join(', ')}`,
        );
      }
      if (value !== undefined && input.type === 'boolean' && !/^(true|false)$/i.test(value)) {
        problems.push(`${where}: input '${input.name}' is '${value}', not true or false`);
      }
      if (!expanded || !input.required || !isVisible(input.visibleRule, valueOf)) continue;
      if ((value ?? input.defaultValue ?? '') === '')
        problems.push(`${where}: required input '${input.name}' is not given`);
    }
  }
  return problems;
}
