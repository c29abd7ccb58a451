// The Azure Pipelines YAML schema (../shared/schemas/azure-pipelines-service-schema.json),
// extended in memory with this extension's tasks, generated from their task.json the way
// the schema lists Microsoft's tasks. Validation follows the editor's model of the YAML:
// every scalar is a string, and an object's first key may be fixed (`firstProperty`).
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtinTasks } from '../../runner/builtin';
import { wholeTemplateExpression } from '../../runner/expressions';
import type { TemplateValue } from './yaml-data';

const projectRoot = join(__dirname, '..', '..');

/** Where CI and developers keep the shared schema: beside the clone, never inside it. */
export const schemaPath = join(projectRoot, '..', 'shared', 'schemas', 'azure-pipelines-service-schema.json');

type JsonSchema = { [key: string]: unknown };

/** One input of a task.json. */
export interface TaskInput {
  name: string;
  type: string;
  required?: boolean;
  defaultValue?: string;
  visibleRule?: string;
  options?: Record<string, string>;
  properties?: Record<string, string>;
  aliases?: string[];
}

/** The parts of a task.json the checks read. */
export interface TaskManifest {
  name: string;
  friendlyName?: string;
  description?: string;
  version: { Major: number; Minor: number; Patch: number };
  inputs: TaskInput[];
  outputVariables?: { name: string }[];
}

/** This extension's task.json files, by task name. */
export function extensionTasks(): TaskManifest[] {
  const tasksDir = join(projectRoot, 'tasks');
  return readdirSync(tasksDir)
    .filter((name) => existsSync(join(tasksDir, name, 'task.json')))
    .map((name) => JSON.parse(readFileSync(join(tasksDir, name, 'task.json'), 'utf8')) as TaskManifest);
}

/** Whether a pickList takes only its listed options. */
export function isClosedPickList(input: TaskInput): boolean {
  return (
    input.type === 'pickList' && input.options !== undefined && input.properties?.EditableOptions !== 'True'
  );
}

// Shaped like the schema's own entries (look up ManualValidation@1 in it): the task name
// as an anchored pattern, each input typed, closed pickLists as enums, and the inputs that
// are required whatever the other inputs say listed as required.
function schemaEntryFor(task: TaskManifest): JsonSchema {
  const reference = `${task.name}@${task.version.Major}`;
  const properties: Record<string, JsonSchema> = {};
  for (const input of task.inputs) {
    const entry: JsonSchema = isClosedPickList(input)
      ? { description: input.name, ignoreCase: 'all', enum: Object.keys(input.options!) }
      : { type: input.type === 'boolean' ? 'boolean' : 'string', description: input.name, ignoreCase: 'key' };
    if (input.aliases?.length) entry.aliases = input.aliases;
    properties[input.name] = entry;
    for (const alias of input.aliases ?? []) properties[alias] = entry;
  }
  // As in the schema's own entries, an input with a default need not be written.
  const required = task.inputs
    .filter((input) => input.required && !input.visibleRule && !input.defaultValue)
    .map((input) => input.name);
  return {
    properties: {
      task: {
        description: `${task.friendlyName ?? task.name}`,
        ignoreCase: 'value',
        pattern: `^${reference}$`,
      },
      inputs: { description: `${task.name} inputs`, properties, additionalProperties: false, required },
    },
    doNotSuggest: false,
    firstProperty: ['task'],
    required: required.length > 0 ? ['task', 'inputs'] : ['task'],
  };
}

/**
 * Microsoft's tasks from the runner's built-in definitions (their real task.json), for the
 * versions the shared schema (v1.261.1) does not list yet, such as
 * PublishCodeCoverageResults@2 and UseNode@1.
 */
function builtinManifests(): TaskManifest[] {
  return builtinTasks().map(({ definition }) => ({
    name: definition.name,
    version: { Major: definition.majorVersion, Minor: 0, Patch: 0 },
    inputs: definition.inputs.map((input) => ({
      name: input.name,
      type: input.type,
      ...(input.required ? { required: true } : {}),
      ...(input.defaultValue !== undefined ? { defaultValue: input.defaultValue } : {}),
      ...(input.visibleRule ? { visibleRule: input.visibleRule } : {}),
      ...(input.options ? { options: { ...input.options } } : {}),
      ...(input.editableOptions ? { properties: { EditableOptions: 'True' } } : {}),
      ...(input.aliases ? { aliases: [...input.aliases] } : {}),
    })),
    outputVariables: definition.outputVariables.map((name) => ({ name })),
  }));
}

/** A copy of the shared schema that also knows this extension's tasks and the built-ins it lacks. */
export function extendedSchema(tasks: readonly TaskManifest[] = extensionTasks()): JsonSchema {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as { definitions: Record<string, JsonSchema> };
  const task = schema.definitions.task as {
    anyOf: JsonSchema[];
    properties: { task: { anyOf: JsonSchema[] } };
  };
  const listed = new Set(
    task.anyOf.map((entry) =>
      String((entry as { properties?: { task?: { pattern?: string } } }).properties?.task?.pattern ?? '')
        .replace(/^\^|\$$/g, '')
        .toLowerCase(),
    ),
  );
  const missingBuiltins = builtinManifests().filter(
    (manifest) => !listed.has(`${manifest.name}@${manifest.version.Major}`.toLowerCase()),
  );
  for (const manifest of [...tasks, ...missingBuiltins]) {
    task.anyOf.push(schemaEntryFor(manifest));
    task.properties.task.anyOf.push({
      description: manifest.description ?? manifest.name,
      doNotSuggest: false,
      ignoreCase: 'value',
      enum: [`${manifest.name}@${manifest.version.Major}`],
    });
  }
  return schema;
}

// The editor reads every scalar as text, so `type: boolean` inputs take the words the
// schema's own `boolean` definition takes.
const booleanText = { type: 'string', pattern: '^(true|false|True|False|TRUE|FALSE)$' };
const expressionText = { type: 'string', pattern: '^\\$\\{\\{[\\s\\S]*\\}\\}$' };

function rewrite(node: unknown, tolerateExpressions: boolean): unknown {
  if (Array.isArray(node)) return node.map((item) => rewrite(item, tolerateExpressions));
  if (node === null || typeof node !== 'object') return node;
  const schema = Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, rewrite(value, tolerateExpressions)]),
  ) as JsonSchema;
  if (schema.type === 'boolean') {
    delete schema.type;
    Object.assign(schema, booleanText);
  }
  // Before expansion a value may be one `${{ }}` expression: its result is checked after.
  if (tolerateExpressions && (schema.enum !== undefined || schema.pattern !== undefined)) {
    const { description, ...constraint } = schema;
    return { description, anyOf: [constraint, expressionText] };
  }
  return schema;
}

/** Names of the schema's definitions this module validates against. */
export type PipelineDefinition =
  'pipeline' | 'stepsTemplate' | 'jobsTemplate' | 'stagesTemplate' | 'extendsTemplate';

/** Validates YAML documents against one definition of the extended schema. */
export class PipelineSchema {
  private readonly ajv: Ajv;
  private readonly validators = new Map<PipelineDefinition, ValidateFunction>();

  /** `tolerateExpressions` accepts a whole `${{ }}` value where the schema wants an enum or pattern. */
  constructor(
    schema: JsonSchema,
    private readonly tolerateExpressions: boolean,
  ) {
    this.ajv = new Ajv({ strict: false, validateSchema: false, unicodeRegExp: false });
    for (const keyword of ['ignoreCase', 'doNotSuggest', 'deprecationMessage', 'aliases']) {
      this.ajv.addKeyword({ keyword });
    }
    this.ajv.addKeyword({
      keyword: 'firstProperty',
      type: 'object',
      schemaType: 'array',
      validate: (first: string[], data: object) => {
        const keys = Object.keys(data);
        return keys.length === 0 || first.includes(keys[0]);
      },
    });
    const rewritten = rewrite(schema, tolerateExpressions) as JsonSchema;
    delete rewritten.$id;
    this.ajv.addSchema(rewritten, 'pipelines');
  }

  /** The schema's complaints about a document, as `path: message` lines (empty when valid). */
  validate(document: TemplateValue, definition: PipelineDefinition): string[] {
    let validator = this.validators.get(definition);
    if (validator === undefined) {
      validator = this.ajv.compile({ $ref: `pipelines#/definitions/${definition}` });
      this.validators.set(definition, validator);
    }
    const data = this.tolerateExpressions ? flattenBlocks(asEditorSees(document)) : asEditorSees(document);
    if (validator(data)) return [];
    return relevantErrors(validator.errors ?? [], data);
  }
}

// A step or job is an anyOf of every kind (task, script, checkout, ...) and a task is an
// anyOf of every task, so a failure reports every branch. The branches that do not apply
// are the ones whose leading key is missing or whose task name does not match.
const branchKeys = new Set([
  'task',
  'script',
  'bash',
  'pwsh',
  'powershell',
  'checkout',
  'download',
  'downloadBuild',
  'getPackage',
  'publish',
  'template',
  'reviewApp',
  'restoreCache',
  'saveCache',
  'job',
  'deployment',
  'stage',
  'group',
  'name',
]);

function isOtherBranch(error: ErrorObject): boolean {
  if (error.keyword === 'anyOf' || error.keyword === 'oneOf' || error.keyword === 'if') return true;
  if (/\/task$/.test(error.instancePath) && (error.keyword === 'pattern' || error.keyword === 'enum'))
    return true;
  if (error.keyword === 'required' && branchKeys.has(String(error.params.missingProperty))) return true;
  return error.keyword === 'additionalProperties' && branchKeys.has(String(error.params.additionalProperty));
}

function relevantErrors(errors: ErrorObject[], document: TemplateValue): string[] {
  const relevant = errors.filter((error) => !isOtherBranch(error));
  if (relevant.length > 0) {
    return [
      ...new Set(
        relevant.map(
          (error) => `${error.instancePath || '/'}: ${error.message} ${JSON.stringify(error.params)}`,
        ),
      ),
    ];
  }
  // Only branch mismatches: a task name no entry matches, or a step of no known kind.
  const paths = [...new Set(errors.map((error) => error.instancePath.replace(/\/task$/, '')))];
  return paths.map(
    (path) =>
      `${path || '/'}: matches no step, job or stage form: ${JSON.stringify(valueAt(document, path))}`,
  );
}

function valueAt(document: TemplateValue, pointer: string): TemplateValue {
  let node = document;
  for (const key of pointer.split('/').slice(1)) {
    node =
      node !== null && typeof node === 'object'
        ? ((node as Record<string, TemplateValue>)[key] ?? null)
        : null;
  }
  return node;
}

// The schema types a task step's timeouts and retries as integers, where it types nearly
// everything else as text.
const integerStepKeys = new Set(['timeoutInMinutes', 'retryCountOnTaskFailure']);

/**
 * A document as the editor's schema sees it: every scalar as a string, except a task
 * step's integer fields. A whole `${{ }}` there stands for the number the service
 * resolves it to before it checks the pipeline.
 */
export function asEditorSees(node: TemplateValue): TemplateValue {
  if (Array.isArray(node)) return node.map(asEditorSees);
  if (node !== null && typeof node === 'object') {
    const isTaskStep = typeof (node as Record<string, TemplateValue>).task === 'string';
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => {
        if (isTaskStep && integerStepKeys.has(key)) {
          if (typeof value === 'number') return [key, value];
          if (typeof value === 'string' && wholeTemplateExpression(value) !== undefined) return [key, 1];
        }
        return [key, asEditorSees(value)];
      }),
    );
  }
  return node === null ? '' : String(node);
}

const blockKey = /^\$\{\{\s*(if|elseif|else|each)\b/;

/**
 * An unexpanded template with every conditional and loop block's contents put in place
 * (all branches at once) and whole-expression list insertions left out, so the schema
 * checks the shape of every branch. Expanded pipelines are checked without this.
 */
export function flattenBlocks(node: TemplateValue): TemplateValue {
  if (Array.isArray(node)) {
    const result: TemplateValue[] = [];
    for (const item of node) {
      if (typeof item === 'string' && wholeTemplateExpression(item) !== undefined) continue;
      const keys = item !== null && typeof item === 'object' && !Array.isArray(item) ? Object.keys(item) : [];
      if (keys.length === 1 && blockKey.test(keys[0])) {
        const body = flattenBlocks((item as Record<string, TemplateValue>)[keys[0]]);
        if (Array.isArray(body)) result.push(...body);
        else result.push(body);
      } else {
        result.push(flattenBlocks(item));
      }
    }
    return result;
  }
  if (node !== null && typeof node === 'object') {
    const result: Record<string, TemplateValue> = {};
    for (const [key, value] of Object.entries(node)) {
      const flattened = flattenBlocks(value);
      if (
        blockKey.test(key) &&
        flattened !== null &&
        typeof flattened === 'object' &&
        !Array.isArray(flattened)
      ) {
        Object.assign(result, flattened);
      } else {
        result[key] = flattened;
      }
    }
    return result;
  }
  return node;
}
