// Expands Azure Pipelines YAML as far as compile-time expressions go: template parameters
// (typed, with defaults and `values:`), `${{ if }}`/`${{ elseif }}`/`${{ else }}`,
// `${{ each }}`, and step, job and stage templates with their parameters, including
// `extends` and templates in repository resources (`path@alias`). What is left is the
// pipeline Azure Pipelines would run, so its structure can be checked offline.
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parse } from 'yaml';
import {
  TemplateError,
  evaluate,
  interpolate,
  isTruthy,
  type ExpressionScope,
  type TemplateValue,
} from './expression';

/** A mapping in a pipeline or template. */
export type YamlMapping = { [key: string]: TemplateValue };

/** Where templates referenced as `path@alias` live on disk, by repository alias. */
export type RepositoryRoots = Readonly<Record<string, string>>;

/** A parameter declaration in a template's `parameters:` list. */
export interface ParameterDeclaration {
  name: string;
  type?: string;
  default?: TemplateValue;
  values?: TemplateValue[];
}

const projectRoot = join(__dirname, '..', '..');

function displayPath(file: string): string {
  return relative(projectRoot, file) || file;
}

function isMapping(value: TemplateValue | undefined): value is YamlMapping {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A copy of a mapping without the given keys. */
export function withoutKeys(mapping: YamlMapping, keys: readonly string[]): YamlMapping {
  return Object.fromEntries(Object.entries(mapping).filter(([key]) => !keys.includes(key)));
}

/** Reads a YAML file as plain data. */
export function loadYaml(file: string): TemplateValue {
  return parse(readFileSync(file, 'utf8')) as TemplateValue;
}

/** The declarations of a template's (or pipeline's) `parameters:` list. */
export function declaredParameters(document: TemplateValue, file: string): ParameterDeclaration[] {
  if (!isMapping(document) || document.parameters === undefined) return [];
  if (!Array.isArray(document.parameters)) {
    throw new TemplateError(`${displayPath(file)}: parameters must be a list of { name, type, default }`);
  }
  return document.parameters.map((entry) => {
    if (!isMapping(entry) || typeof entry.name !== 'string') {
      throw new TemplateError(`${displayPath(file)}: every parameter needs a name`);
    }
    return entry as unknown as ParameterDeclaration;
  });
}

const listTypes: Record<string, 'step' | 'job' | 'stage' | 'deployment' | 'container'> = {
  stepList: 'step',
  jobList: 'job',
  deploymentList: 'deployment',
  stageList: 'stage',
  containerList: 'container',
};

function describe(value: TemplateValue): string {
  if (Array.isArray(value)) return 'a sequence';
  if (isMapping(value)) return 'a mapping';
  return `'${String(value)}'`;
}

// Checks and converts one given value the way Azure Pipelines does for the declared type.
function coerce(declaration: ParameterDeclaration, value: TemplateValue, where: string): TemplateValue {
  const type = declaration.type ?? 'string';
  const problem = (expected: string) =>
    new TemplateError(
      `${where}: parameter '${declaration.name}' must be ${expected}, but got ${describe(value)}`,
    );
  switch (type) {
    case 'string':
      if (typeof value === 'object' && value !== null) throw problem('a string');
      return value === null ? '' : String(value);
    case 'number': {
      const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
      if (typeof value === 'boolean' || Number.isNaN(number) || value === '') throw problem('a number');
      return number;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
      throw problem('a boolean (true or false)');
    case 'object':
      return value;
    case 'step':
    case 'job':
    case 'stage':
    case 'deployment':
    case 'container':
      if (!isMapping(value)) throw problem(`a single ${type} (a mapping)`);
      return value;
    default: {
      const item = listTypes[type];
      if (item === undefined)
        throw new TemplateError(`${where}: parameter '${declaration.name}' has unknown type '${type}'`);
      if (!Array.isArray(value) || !value.every(isMapping)) throw problem(`a list of ${item}s`);
      return value;
    }
  }
}

/**
 * Binds the values a caller passed to a template's declared parameters: unknown names,
 * missing required values, wrong types and values outside `values:` are errors that name
 * the template and the parameter.
 */
export function bindParameters(
  declarations: readonly ParameterDeclaration[],
  given: TemplateValue | undefined,
  file: string,
): YamlMapping {
  const where = displayPath(file);
  if (given !== undefined && given !== null && !isMapping(given)) {
    throw new TemplateError(`${where}: parameters must be a mapping of name: value`);
  }
  const supplied = given ?? {};
  const known = new Set(declarations.map((declaration) => declaration.name));
  const unknown = Object.keys(supplied).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new TemplateError(
      `${where}: unexpected parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `'${name}'`).join(', ')}; ` +
        `declared: ${[...known].join(', ')}`,
    );
  }
  const bound: YamlMapping = {};
  for (const declaration of declarations) {
    const has = Object.hasOwn(supplied, declaration.name);
    if (!has && declaration.default === undefined) {
      throw new TemplateError(
        `${where}: parameter '${declaration.name}' (${declaration.type ?? 'string'}) is required: ` +
          `give it a value under parameters:`,
      );
    }
    const value = coerce(declaration, has ? supplied[declaration.name] : declaration.default!, where);
    if (
      declaration.values !== undefined &&
      !declaration.values.some((allowed) => String(allowed) === String(value))
    ) {
      throw new TemplateError(
        `${where}: parameter '${declaration.name}' is '${String(value)}', ` +
          `which is not one of its values: ${declaration.values.join(', ')}`,
      );
    }
    bound[declaration.name] = value;
  }
  return bound;
}

interface Context {
  file: string;
  scope: ExpressionScope;
  repositories: RepositoryRoots;
}

const directive = /^\$\{\{\s*(if|elseif|else|each)\b([\s\S]*)\}\}$/;

function directiveOf(key: string): { kind: string; rest: string } | undefined {
  const match = directive.exec(key.trim());
  return match ? { kind: match[1], rest: match[2].trim() } : undefined;
}

function inFile(context: Context, error: unknown): never {
  if (error instanceof TemplateError && !error.message.startsWith(displayPath(context.file))) {
    const located = new TemplateError(`${displayPath(context.file)}: ${error.message}`);
    throw located;
  }
  throw error;
}

// `if`/`elseif`/`else` and `each` blocks, in a mapping or a sequence, yield the expanded
// contents they insert; consecutive conditional blocks form one chain.
class ConditionalChain {
  private taken: boolean | undefined;

  reset(): void {
    this.taken = undefined;
  }

  /** Whether the block's contents are inserted. */
  admits(kind: string, condition: string, context: Context): boolean {
    if (kind === 'if') {
      this.taken = isTruthy(evaluate(condition, context.scope));
      return this.taken;
    }
    if (this.taken === undefined) {
      throw new TemplateError(
        `${displayPath(context.file)}: \${{ ${kind} }} without an \${{ if }} before it`,
      );
    }
    if (this.taken) return false;
    this.taken = kind === 'else' || isTruthy(evaluate(condition, context.scope));
    return this.taken;
  }
}

function eachBindings(rest: string, context: Context): { name: string; items: TemplateValue[] } {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)\s+in\s+([\s\S]+)$/.exec(rest);
  if (!match)
    throw new TemplateError(`${displayPath(context.file)}: \${{ each }} needs "name in collection"`);
  const collection = evaluate(match[2], context.scope);
  const items = Array.isArray(collection)
    ? collection
    : isMapping(collection)
      ? Object.entries(collection).map(([key, value]) => ({ key, value }))
      : [];
  return { name: match[1], items };
}

function expandMapping(node: YamlMapping, context: Context): YamlMapping {
  const result: YamlMapping = {};
  const chain = new ConditionalChain();
  const insert = (value: TemplateValue) => {
    if (value === null) return;
    if (!isMapping(value))
      throw new TemplateError(`${displayPath(context.file)}: a block inside a mapping must hold a mapping`);
    Object.assign(result, value);
  };
  for (const [key, value] of Object.entries(node)) {
    const block = directiveOf(key);
    if (block === undefined) chain.reset();
    if (block?.kind === 'each') {
      const { name, items } = eachBindings(block.rest, context);
      for (const item of items)
        insert(expandNode(value, { ...context, scope: { ...context.scope, [name]: item } }));
    } else if (block !== undefined) {
      if (chain.admits(block.kind, block.rest, context)) insert(expandNode(value, context));
    } else {
      const expandedKey = interpolate(key, context.scope);
      result[String(expandedKey)] = expandNode(value, context);
    }
  }
  return result;
}

function expandSequence(node: TemplateValue[], context: Context): TemplateValue[] {
  const result: TemplateValue[] = [];
  const chain = new ConditionalChain();
  const splice = (value: TemplateValue) => {
    if (Array.isArray(value)) result.push(...value);
    else if (value !== null) result.push(value);
  };
  for (const item of node) {
    const keys = isMapping(item) ? Object.keys(item) : [];
    const block = keys.length === 1 ? directiveOf(keys[0]) : undefined;
    if (block === undefined) chain.reset();
    if (block?.kind === 'each') {
      const { name, items } = eachBindings(block.rest, context);
      const body = (item as YamlMapping)[keys[0]];
      for (const element of items)
        splice(expandNode(body, { ...context, scope: { ...context.scope, [name]: element } }));
    } else if (block !== undefined) {
      if (chain.admits(block.kind, block.rest, context))
        splice(expandNode((item as YamlMapping)[keys[0]], context));
    } else if (typeof item === 'string') {
      // `- ${{ parameters.steps }}` inserts the whole list.
      splice(expandNode(item, context));
    } else if (isMapping(item) && typeof item.template === 'string') {
      result.push(...includeTemplate(expandMapping(item, context), context));
    } else {
      result.push(expandNode(item, context));
    }
  }
  return result;
}

/** Expands one node of a template with the given scope. */
function expandNode(node: TemplateValue, context: Context): TemplateValue {
  try {
    if (typeof node === 'string') return interpolate(node, context.scope);
    if (Array.isArray(node)) return expandSequence(node, context);
    if (isMapping(node)) return expandMapping(node, context);
    return node;
  } catch (error) {
    return inFile(context, error);
  }
}

/** The file a template reference names: relative to the referencing file, or `path@alias`. */
export function resolveTemplatePath(
  reference: string,
  fromFile: string,
  repositories: RepositoryRoots,
): string {
  const at = reference.lastIndexOf('@');
  if (at < 0) return join(dirname(fromFile), reference);
  const alias = reference.slice(at + 1);
  const root = repositories[alias];
  if (root === undefined) {
    throw new TemplateError(
      `${displayPath(fromFile)}: template '${reference}' names repository '${alias}', ` +
        `which resources.repositories does not declare`,
    );
  }
  return join(root, reference.slice(0, at));
}

/** Expands a template file for the given parameters and returns its expanded document. */
export function expandTemplateFile(
  file: string,
  given: TemplateValue | undefined,
  repositories: RepositoryRoots = {},
): YamlMapping {
  const document = loadYaml(file);
  if (!isMapping(document)) throw new TemplateError(`${displayPath(file)}: a template must be a mapping`);
  const parameters = bindParameters(declaredParameters(document, file), given, file);
  const body = withoutKeys(document, ['parameters']);
  return expandMapping(body, { file, scope: { parameters }, repositories });
}

const sections = ['steps', 'jobs', 'stages'] as const;

function includeTemplate(reference: YamlMapping, context: Context): TemplateValue[] {
  const file = resolveTemplatePath(String(reference.template), context.file, context.repositories);
  const expanded = expandTemplateFile(file, reference.parameters, context.repositories);
  const section = sections.find((name) => Array.isArray(expanded[name]));
  if (section === undefined)
    throw new TemplateError(`${displayPath(file)}: a template needs steps, jobs or stages`);
  return expanded[section] as TemplateValue[];
}

/**
 * Expands a pipeline file (what a team commits) with its runtime parameters' defaults or
 * the given values, following `extends` and every template reference.
 */
export function expandPipeline(
  file: string,
  repositories: RepositoryRoots,
  runtimeParameters?: YamlMapping,
): YamlMapping {
  return expandPipelineDocument(loadYaml(file), file, repositories, runtimeParameters);
}

/** Expands a pipeline given as data; `file` places its relative template references. */
export function expandPipelineDocument(
  document: TemplateValue,
  file: string,
  repositories: RepositoryRoots,
  runtimeParameters?: YamlMapping,
): YamlMapping {
  if (!isMapping(document)) throw new TemplateError(`${displayPath(file)}: a pipeline must be a mapping`);
  const parameters = bindParameters(declaredParameters(document, file), runtimeParameters, file);
  const extension = document.extends;
  const body = withoutKeys(document, ['parameters', 'extends']);
  const pipeline = expandMapping(body, { file, scope: { parameters }, repositories });
  if (!isMapping(extension)) return pipeline;
  const given = expandNode(extension.parameters ?? null, { file, scope: { parameters }, repositories });
  const templateFile = resolveTemplatePath(String(extension.template), file, repositories);
  const template = expandTemplateFile(templateFile, given ?? undefined, repositories);
  // The pipeline's own trigger and resources stand; the template brings the rest.
  return { ...template, ...pipeline };
}
