// Template expansion, as the service does it when it loads a pipeline: `${{ }}`
// expressions in keys and values, `${{ if }}`/`${{ elseif }}`/`${{ else }}`, `${{ each }}`
// and `${{ insert }}`, step, job, stage and variable templates with their parameters,
// `extends`, and `${{ variables.x }}` for the variables declared so far in scope. What it
// returns is the pipeline with no compile-time expression left, every node still knowing
// the file and line it came from.
import {
  ExpressionError,
  evaluate,
  isObject,
  isTruthy,
  parseExpression,
  templateSegments,
  toText,
  wholeTemplateExpression,
  type ExpressionNode,
  type ExpressionValue,
} from '../expressions';
import type { SourceLocation } from '../model';
import { FileLoader, type LoadedFile, type RepositoryFolders } from './files';
import { valueToNode } from './node-values';
import {
  bindParameters,
  readDeclarations,
  runtimeParameterNodes,
  type ParameterDeclaration,
} from './parameters';
import { ProblemError, Problems } from './problems';
import {
  entryOf,
  isNull,
  scalar,
  valueOf,
  withoutKeys,
  type YEntry,
  type YMapping,
  type YNode,
} from './yaml-tree';

/** The lists whose items may be template references. */
export type ListKind = 'steps' | 'jobs' | 'stages' | 'variables';

const listKinds: ReadonlySet<string> = new Set(['steps', 'jobs', 'stages', 'variables']);

interface Scope {
  /** Named values of `${{ }}`: `parameters`, `variables`, `each` loop variables. */
  readonly values: Readonly<Record<string, ExpressionValue>>;
  /** The parameters the current file declares, for references to one it does not. */
  readonly declared: readonly string[];
  readonly file: LoadedFile;
  /** Template nesting: 0 in the pipeline file. */
  readonly depth: number;
}

type Directive =
  | { readonly kind: 'if' | 'elseif'; readonly condition: string }
  | { readonly kind: 'else' | 'insert' }
  | { readonly kind: 'each'; readonly variable: string; readonly collection: string };

const directivePattern = /^(if|elseif|else|each|insert)\b\s*([\s\S]*)$/;

function directiveName(expression: string): string | undefined {
  return directivePattern.exec(expression)?.[1];
}

// A `${{ directive }}` key, or undefined for a key that is no directive.
function readDirective(key: YEntry['key']): Directive | undefined {
  const inside = wholeTemplateExpression(key.text);
  const match = inside === undefined ? undefined : directivePattern.exec(inside);
  if (!match) return undefined;
  const [, kind, rest] = match;
  const count = (expected: number) => {
    const actual = rest.trim() === '' ? 0 : 1;
    if (actual !== expected) {
      throw new ProblemError({
        location: key.location,
        message: `Exactly ${expected} parameter(s) were expected following the directive '${kind}'. Actual parameter count: ${actual}`,
      });
    }
  };
  if (kind === 'if' || kind === 'elseif') {
    count(1);
    return { kind, condition: rest.trim() };
  }
  if (kind === 'else' || kind === 'insert') {
    count(0);
    return { kind };
  }
  const each = /^([A-Za-z_][A-Za-z0-9_]*)\s+in\s+([\s\S]+)$/.exec(rest.trim());
  if (!each) {
    throw new ProblemError({
      location: key.location,
      message: `\${{ each }} is written \${{ each <name> in <collection> }}, not \${{ each ${rest.trim()} }}`,
    });
  }
  return { kind: 'each', variable: each[1], collection: each[2].trim() };
}

// The `parameters.<name>` an expression reads, by literal name.
function parameterReferences(node: ExpressionNode): { name: string; position: number }[] {
  switch (node.kind) {
    case 'index': {
      const own =
        node.object.kind === 'name' &&
        node.object.name.toLowerCase() === 'parameters' &&
        node.key.kind === 'literal' &&
        typeof node.key.value === 'string'
          ? [{ name: node.key.value, position: node.key.position }]
          : [];
      return [...own, ...parameterReferences(node.object), ...parameterReferences(node.key)];
    }
    case 'filter':
      return parameterReferences(node.object);
    case 'call':
      return node.args.flatMap(parameterReferences);
    default:
      return [];
  }
}

/** What `expandPipeline` needs. */
export interface ExpandOptions {
  /** The pipeline file. */
  readonly file: string;
  /** Its text, when it is not to be read from `file`. */
  readonly source?: string;
  /** Repository alias → local folder; `self` is the pipeline's own repository. */
  readonly repositories: RepositoryFolders;
  /** Runtime parameter values, as text (`--param name=value`). */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Queue-time variables (`--variable name=value`), readable as `${{ variables.x }}`. */
  readonly variables?: Readonly<Record<string, string>>;
}

/** The pipeline after expansion, with what compile time learnt on the way. */
export interface ExpandedPipeline {
  /** The pipeline mapping, every template included and every `${{ }}` resolved. */
  readonly document: YMapping;
  /** Runtime parameters after binding. */
  readonly parameters: Readonly<Record<string, ExpressionValue>>;
  readonly file: LoadedFile;
  readonly loader: FileLoader;
}

/** Expands one pipeline; keeps the problems found along the way. */
export class Expander {
  readonly problems = new Problems();
  readonly loader: FileLoader;
  private readonly queueVariables: Readonly<Record<string, string>>;

  constructor(private readonly options: ExpandOptions) {
    this.loader = new FileLoader(options.repositories);
    this.queueVariables = options.variables ?? {};
  }

  /** Expands the pipeline, or returns undefined when not even its file could be read. */
  expandPipeline(): ExpandedPipeline | undefined {
    const file = this.problems.attempt(() =>
      this.loader.loadPipeline(this.options.file, this.options.source),
    );
    if (file === undefined) return undefined;
    if (file.root.kind !== 'mapping') {
      this.problems.add(file.root.location, 'A pipeline is a mapping (stages:, jobs:, steps: or extends:)');
      return undefined;
    }
    this.loader.declare(declaredRepositoryAliases(file.root));
    const declarations = readDeclarations(valueOf(file.root, 'parameters'), this.problems);
    const given = runtimeParameterNodes(
      declarations,
      this.options.parameters ?? {},
      valueOf(file.root, 'parameters')?.location ?? file.root.location,
      this.problems,
    );
    const parameters = bindParameters(
      declarations,
      given,
      file.root.location,
      this.problems,
      this.hooks(file, 0),
    );
    const scope: Scope = {
      values: { parameters, variables: { ...this.queueVariables } },
      declared: declarations.map((declaration) => declaration.name),
      file,
      depth: 0,
    };
    const extendsEntry = entryOf(file.root, 'extends');
    let document = this.expandMapping(withoutKeys(file.root, ['parameters', 'extends']), scope, {
      variableScope: true,
    });
    if (extendsEntry) document = this.extend(document, extendsEntry, scope);
    return { document, parameters, file, loader: this.loader };
  }

  private hooks(file: LoadedFile, depth: number) {
    return {
      resolveList: (node: YNode, kind: 'steps' | 'jobs' | 'stages') => {
        const scope: Scope = { values: {}, declared: [], file, depth };
        return {
          ...node,
          items: this.spliceTemplates(node.kind === 'sequence' ? node.items : [node], scope, kind),
        } as YNode;
      },
    };
  }

  // `extends: { template, parameters }`: the template brings the stages, jobs or steps;
  // the pipeline's own trigger, resources, variables and name stand.
  private extend(pipeline: YMapping, entry: YEntry, scope: Scope): YMapping {
    const reference = this.problems.attempt(() => this.expandNode(entry.value, scope));
    if (reference === undefined) return pipeline;
    if (reference.kind !== 'mapping') {
      this.problems.add(reference.location, 'extends: is a mapping: { template, parameters }');
      return pipeline;
    }
    const body = this.problems.attempt(() =>
      this.loadTemplateBody(reference, entry.key.location, {
        ...scope,
        values: { ...scope.values, variables: this.variablesIn(pipeline, scope) },
      }),
    );
    if (body === undefined) return pipeline;
    const entries = [...pipeline.entries];
    for (const templateEntry of body.entries) {
      const own = entries.findIndex((candidate) => candidate.key.text === templateEntry.key.text);
      if (own < 0) {
        entries.push(templateEntry);
      } else if (templateEntry.key.text === 'variables') {
        entries[own] = {
          key: entries[own].key,
          value: concatenateVariables(entries[own].value, templateEntry.value),
        };
      } else if (['stages', 'jobs', 'steps'].includes(templateEntry.key.text)) {
        this.problems.add(
          entries[own].key.location,
          `Unexpected value '${templateEntry.key.text}': a pipeline that extends a template gets its ${templateEntry.key.text} from the template`,
        );
      }
    }
    return { ...pipeline, entries };
  }

  private variablesIn(mapping: YMapping, scope: Scope): Record<string, ExpressionValue> {
    const node = valueOf(mapping, 'variables');
    return {
      ...(scope.values.variables as Record<string, ExpressionValue>),
      ...collectVariables(node),
      ...this.queueVariables,
    };
  }

  // Expands a `template:` reference's mapping, reads the template and binds its
  // parameters; returns the template's expanded body (without `parameters`).
  private loadTemplateBody(reference: YMapping, where: SourceLocation, scope: Scope): YMapping {
    for (const entry of reference.entries) {
      if (entry.key.text !== 'template' && entry.key.text !== 'parameters')
        this.problems.add(entry.key.location, `Unexpected value '${entry.key.text}'`);
    }
    const path = valueOf(reference, 'template');
    if (path?.kind !== 'scalar' || path.text.trim() === '') {
      throw new ProblemError({
        location: path?.location ?? where,
        message: 'template: needs the path of a YAML file',
      });
    }
    if (/\$\(|\$\[/.test(path.text)) {
      throw new ProblemError({
        location: path.location,
        message:
          `Template paths are resolved at compile time, before any variable has a run-time value: ` +
          `'${path.text}' uses a macro or a runtime expression; use a literal path or \${{ }} with parameters or variables`,
      });
    }
    const from = this.loader.fileOf(path.location) ?? scope.file;
    const file = this.loader.loadTemplate(path.text.trim(), from, where, scope.depth + 1);
    if (file.root.kind !== 'mapping')
      throw new ProblemError({ location: file.root.location, message: 'Expected a mapping' });
    const declarations = readDeclarations(valueOf(file.root, 'parameters'), this.problems);
    const parameters = bindParameters(
      declarations,
      valueOf(reference, 'parameters'),
      where,
      this.problems,
      this.hooks(from, scope.depth),
    );
    const templateScope: Scope = {
      values: { parameters, variables: scope.values.variables ?? {} },
      declared: declarations.map((declaration: ParameterDeclaration) => declaration.name),
      file,
      depth: scope.depth + 1,
    };
    return this.expandMapping(withoutKeys(file.root, ['parameters']), templateScope, { variableScope: true });
  }

  // Includes a step, job, stage or variables template at a reference.
  private include(reference: YMapping, scope: Scope, kind: ListKind): YNode[] {
    const templateKey = entryOf(reference, 'template')!.key;
    const expanded = this.expandMapping(reference, scope, {});
    const body = this.loadTemplateBody(expanded, templateKey.location, scope);
    for (const entry of body.entries) {
      if (entry.key.text !== kind)
        this.problems.add(
          entry.key.location,
          `Unexpected value '${entry.key.text}': a template included in ${kind}: holds only ${kind}:`,
        );
    }
    const section = valueOf(body, kind);
    if (section === undefined) {
      this.problems.add(body.location, `A template included in ${kind}: needs ${kind}:`);
      return [];
    }
    if (isNull(section)) return [];
    if (kind === 'variables' && section.kind === 'mapping') return variableListItems(section);
    if (section.kind !== 'sequence') {
      this.problems.add(section.location, 'Expected a sequence');
      return [];
    }
    return [...section.items];
  }

  private evaluateAt(expression: string, scope: Scope, location: SourceLocation): ExpressionValue {
    try {
      const parsed = parseExpression(expression);
      const undeclared = parameterReferences(parsed.root).find(
        (reference) => !scope.declared.some((name) => name.toLowerCase() === reference.name.toLowerCase()),
      );
      if (undeclared && scope.values.parameters !== undefined) {
        const declared = scope.declared.length
          ? `declared: ${scope.declared.join(', ')}`
          : 'it declares none';
        throw new ProblemError({
          location,
          message: `Unrecognized parameter '${undeclared.name}' in \${{ ${expression} }}: ${scope.file.display} has no such parameter (${declared})`,
        });
      }
      return evaluate(parsed, { mode: 'compile', namedValues: scope.values });
    } catch (error) {
      if (error instanceof ExpressionError) throw new ProblemError({ location, message: error.message });
      throw error;
    }
  }

  private count(text: string, location: SourceLocation, scope: Scope): void {
    this.loader.countBytes(text.length, location, scope.file.display);
  }

  private expandScalar(node: Extract<YNode, { kind: 'scalar' }>, scope: Scope): YNode {
    if (typeof node.value !== 'string' || !node.text.includes('${{')) {
      this.count(node.text, node.location, scope);
      return node;
    }
    let segments;
    try {
      segments = templateSegments(node.text);
    } catch (error) {
      if (error instanceof ExpressionError)
        throw new ProblemError({ location: node.location, message: error.message });
      throw error;
    }
    const whole = wholeTemplateExpression(node.text);
    if (whole !== undefined) {
      const directive = directiveName(whole);
      if (directive) {
        throw new ProblemError({
          location: node.location,
          message: `The expression directive '${directive}' is not supported in this context`,
        });
      }
      const result = valueToNode(this.evaluateAt(whole, scope, node.location), node.location);
      if (result.kind === 'scalar') this.count(result.text, node.location, scope);
      return result;
    }
    let text = '';
    for (const segment of segments) {
      if (segment.kind === 'text') {
        text += segment.text;
        continue;
      }
      const directive = directiveName(segment.expression);
      if (directive) {
        throw new ProblemError({
          location: node.location,
          message:
            `The directive '${directive}' is not allowed in this context. Directives are not supported for expressions ` +
            `that are embedded within a string. Directives are only supported when the entire value is an expression.`,
        });
      }
      const value = this.evaluateAt(segment.expression, scope, node.location);
      try {
        text += toText(value);
      } catch (error) {
        throw new ProblemError({
          location: node.location,
          message: `\${{ ${segment.expression} }} is ${Array.isArray(value) ? 'a sequence' : 'a mapping'}, which cannot be part of a string: ${(error as Error).message}`,
        });
      }
    }
    this.count(text, node.location, scope);
    return scalar(text, text, node.location);
  }

  /** Expands any node; list kinds come from the key a sequence sits under. */
  expandNode(node: YNode, scope: Scope, listKind?: ListKind): YNode {
    if (node.kind === 'scalar') return this.expandScalar(node, scope);
    if (node.kind === 'sequence') return this.expandSequence(node, scope, listKind);
    return this.expandMapping(node, scope, {});
  }

  // if/elseif/else and each in a mapping insert the mapping they hold; other keys are
  // expanded (a whole `${{ }}` key becomes its value's text).
  private expandMapping(node: YMapping, scope: Scope, options: { variableScope?: boolean }): YMapping {
    let inner = scope;
    let variablesNode: YNode | undefined;
    const isScope =
      options.variableScope ||
      node.entries.some((entry) => ['stage', 'job', 'deployment'].includes(entry.key.text));
    const variablesEntry = isScope ? entryOf(node, 'variables') : undefined;
    if (variablesEntry) {
      const declared = this.expandVariables(variablesEntry.value, scope);
      variablesNode = declared.node;
      inner = declared.scope;
    }
    const entries: YEntry[] = [];
    const add = (entry: YEntry) => {
      if (entries.some((existing) => existing.key.text === entry.key.text)) {
        this.problems.add(entry.key.location, `'${entry.key.text}' is already defined`);
        return;
      }
      this.count(entry.key.text, entry.key.location, inner);
      entries.push(entry);
    };
    const merge = (value: YNode | undefined, location: SourceLocation) => {
      if (value === undefined || isNull(value)) return;
      if (value.kind !== 'mapping') {
        this.problems.add(
          location,
          `Expected a mapping here, not ${value.kind === 'sequence' ? 'a sequence' : `'${value.text}'`}`,
        );
        return;
      }
      for (const entry of value.entries) add(entry);
    };
    let chainTaken: boolean | undefined;
    for (const entry of node.entries) {
      if (entry === variablesEntry) {
        if (variablesNode !== undefined) add({ key: entry.key, value: variablesNode });
        chainTaken = undefined;
        continue;
      }
      this.problems.attempt(() => {
        const directive = readDirective(entry.key);
        if (directive === undefined || directive.kind === 'each' || directive.kind === 'insert')
          chainTaken = undefined;
        if (directive === undefined) {
          const key = this.expandKey(entry.key, inner);
          add({
            key,
            value: this.expandNode(
              entry.value,
              inner,
              listKinds.has(key.text) ? (key.text as ListKind) : undefined,
            ),
          });
          return;
        }
        switch (directive.kind) {
          case 'if':
            chainTaken = isTruthy(this.evaluateAt(directive.condition, inner, entry.key.location));
            if (chainTaken) merge(this.expandNode(entry.value, inner), entry.key.location);
            return;
          case 'elseif':
          case 'else':
            if (chainTaken === undefined) {
              throw new ProblemError({
                location: entry.key.location,
                message: `\${{ ${directive.kind} }} must follow \${{ if }} or \${{ elseif }} at the same level`,
              });
            }
            if (chainTaken) return;
            chainTaken =
              directive.kind === 'elseif'
                ? isTruthy(this.evaluateAt(directive.condition, inner, entry.key.location))
                : true;
            if (chainTaken) merge(this.expandNode(entry.value, inner), entry.key.location);
            return;
          case 'insert':
            merge(this.expandNode(entry.value, inner), entry.key.location);
            return;
          case 'each':
            for (const item of this.eachItems(directive, inner, entry.key.location)) {
              merge(
                this.expandNode(entry.value, {
                  ...inner,
                  values: { ...inner.values, [directive.variable]: item },
                }),
                entry.key.location,
              );
            }
            return;
        }
      });
    }
    return { kind: 'mapping', entries, location: node.location };
  }

  // A `variables:` block, each variable readable as `${{ variables.x }}` by the ones after
  // it and by everything else in its scope; queue-time variables win.
  private expandVariables(node: YNode, scope: Scope): { node: YNode; scope: Scope } {
    let current = scope;
    const withVariables = (declared: YNode | undefined) => {
      current = {
        ...current,
        values: {
          ...current.values,
          variables: {
            ...(current.values.variables as Record<string, ExpressionValue>),
            ...collectVariables(declared),
            ...this.queueVariables,
          },
        },
      };
    };
    if (node.kind === 'mapping') {
      const entries: YEntry[] = [];
      for (const entry of node.entries) {
        this.problems.attempt(() => {
          const expanded = this.expandMapping({ ...node, entries: [entry] }, current, {});
          entries.push(...expanded.entries);
          withVariables(expanded);
        });
      }
      return { node: { ...node, entries }, scope: current };
    }
    if (node.kind === 'sequence') {
      const items: YNode[] = [];
      for (const item of node.items) {
        const expanded = this.problems.attempt(() =>
          this.expandSequence({ ...node, items: [item] }, current, 'variables'),
        );
        if (expanded?.kind !== 'sequence') continue;
        items.push(...expanded.items);
        withVariables(expanded);
      }
      return { node: { ...node, items }, scope: current };
    }
    return { node: this.expandNode(node, scope), scope };
  }

  private expandKey(key: YEntry['key'], scope: Scope): YEntry['key'] {
    if (!key.text.includes('${{')) return key;
    const expanded = this.expandScalar(key, scope);
    if (expanded.kind !== 'scalar') {
      throw new ProblemError({
        location: key.location,
        message: `A key must be text; ${key.text} is ${expanded.kind === 'sequence' ? 'a sequence' : 'a mapping'}`,
      });
    }
    return scalar(expanded.text, expanded.text, key.location);
  }

  private eachItems(
    directive: Extract<Directive, { kind: 'each' }>,
    scope: Scope,
    location: SourceLocation,
  ): ExpressionValue[] {
    const collection = this.evaluateAt(directive.collection, scope, location);
    if (collection === null) return [];
    if (Array.isArray(collection)) return [...collection];
    if (isObject(collection)) return Object.entries(collection).map(([key, value]) => ({ key, value }));
    throw new ProblemError({
      location,
      message: `\${{ each ${directive.variable} in ${directive.collection} }} needs a sequence or a mapping, not ${toText(collection) === '' ? 'an empty value' : `'${toText(collection)}'`}`,
    });
  }

  // Items of a sequence: if/elseif/else and each blocks splice what they hold, a whole
  // `${{ }}` item that is a sequence splices its items, and in steps, jobs, stages and
  // variables a `template:` item splices the template's items.
  private expandSequence(
    node: Extract<YNode, { kind: 'sequence' }>,
    scope: Scope,
    listKind?: ListKind,
  ): YNode {
    const items: YNode[] = [];
    const splice = (value: YNode) => {
      if (value.kind === 'sequence') items.push(...this.spliceTemplates(value.items, scope, listKind));
      else if (!isNull(value)) items.push(...this.spliceTemplates([value], scope, listKind));
    };
    let chainTaken: boolean | undefined;
    for (const item of node.items) {
      this.problems.attempt(() => {
        const only = item.kind === 'mapping' && item.entries.length === 1 ? item.entries[0] : undefined;
        const directive = only ? readDirective(only.key) : undefined;
        if (directive === undefined || directive.kind === 'each' || directive.kind === 'insert')
          chainTaken = undefined;
        if (only && directive) {
          switch (directive.kind) {
            case 'if':
              chainTaken = isTruthy(this.evaluateAt(directive.condition, scope, only.key.location));
              if (chainTaken) splice(this.expandNode(only.value, scope, listKind));
              return;
            case 'elseif':
            case 'else':
              if (chainTaken === undefined) {
                throw new ProblemError({
                  location: only.key.location,
                  message: `\${{ ${directive.kind} }} must follow \${{ if }} or \${{ elseif }} in the same list`,
                });
              }
              if (chainTaken) return;
              chainTaken =
                directive.kind === 'elseif'
                  ? isTruthy(this.evaluateAt(directive.condition, scope, only.key.location))
                  : true;
              if (chainTaken) splice(this.expandNode(only.value, scope, listKind));
              return;
            case 'each':
              for (const element of this.eachItems(directive, scope, only.key.location)) {
                splice(
                  this.expandNode(
                    only.value,
                    { ...scope, values: { ...scope.values, [directive.variable]: element } },
                    listKind,
                  ),
                );
              }
              return;
            case 'insert':
              splice(this.expandNode(only.value, scope, listKind));
              return;
          }
        }
        if (item.kind === 'scalar' && wholeTemplateExpression(item.text) !== undefined) {
          splice(this.expandScalar(item, scope));
          return;
        }
        if (listKind && item.kind === 'mapping' && entryOf(item, 'template')) {
          items.push(...this.include(item, scope, listKind));
          return;
        }
        items.push(this.expandNode(item, scope));
      });
    }
    return { kind: 'sequence', items, location: node.location };
  }

  // Items already expanded (a parameter's value) that are template references in a list
  // of `kind` are included, resolved against the file where they were written.
  private spliceTemplates(items: readonly YNode[], scope: Scope, kind: ListKind | undefined): YNode[] {
    if (kind === undefined) return [...items];
    return items.flatMap((item) => {
      if (item.kind !== 'mapping' || !entryOf(item, 'template')) return [item];
      const file = this.loader.fileOf(item.location) ?? scope.file;
      return this.problems.attempt(() => this.include(item, { ...scope, file }, kind)) ?? [];
    });
  }
}

/** The aliases a pipeline's `resources.repositories` declares, as written (no expressions). */
export function declaredRepositoryAliases(root: YMapping): Set<string> {
  const resources = valueOf(root, 'resources');
  const repositories = resources?.kind === 'mapping' ? valueOf(resources, 'repositories') : undefined;
  const aliases = new Set<string>();
  if (repositories?.kind === 'sequence') {
    for (const item of repositories.items) {
      const alias = item.kind === 'mapping' ? valueOf(item, 'repository') : undefined;
      if (alias?.kind === 'scalar') aliases.add(alias.text);
    }
  }
  return aliases;
}

/** The name → value of variables as declared (mapping or list form); groups have no values here. */
export function collectVariables(node: YNode | undefined): Record<string, ExpressionValue> {
  const values: Record<string, ExpressionValue> = {};
  if (node?.kind === 'mapping') {
    for (const entry of node.entries)
      if (entry.value.kind === 'scalar') values[entry.key.text] = entry.value.text;
  } else if (node?.kind === 'sequence') {
    for (const item of node.items) {
      if (item.kind !== 'mapping') continue;
      const name = valueOf(item, 'name');
      const value = valueOf(item, 'value');
      if (name?.kind === 'scalar') values[name.text] = value?.kind === 'scalar' ? value.text : '';
    }
  }
  return values;
}

// A variables template written in mapping form, as the list items it stands for.
function variableListItems(section: YMapping): YNode[] {
  return section.entries.map((entry) => ({
    kind: 'mapping' as const,
    entries: [
      {
        key: scalar('name', 'name', entry.key.location),
        value: scalar(entry.key.text, entry.key.text, entry.key.location),
      },
      { key: scalar('value', 'value', entry.key.location), value: entry.value },
    ],
    location: entry.key.location,
  }));
}

// The pipeline's variables followed by an extended template's, in list form.
function concatenateVariables(first: YNode, second: YNode): YNode {
  const asList = (node: YNode): YNode[] =>
    node.kind === 'sequence' ? [...node.items] : node.kind === 'mapping' ? variableListItems(node) : [];
  return { kind: 'sequence', items: [...asList(first), ...asList(second)], location: first.location };
}

/** Expands a pipeline file; see ExpandOptions. Problems are returned, not thrown. */
export function expandPipelineFile(options: ExpandOptions): {
  readonly expanded?: ExpandedPipeline;
  readonly problems: Problems;
} {
  const expander = new Expander(options);
  try {
    return { expanded: expander.expandPipeline(), problems: expander.problems };
  } catch (error) {
    // A crossed limit stops everything; what was found before it is still reported.
    expander.problems.absorb(error);
    return { problems: expander.problems };
  }
}
