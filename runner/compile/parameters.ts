// Template and runtime parameters: their declarations (`parameters:` of a template or the
// pipeline), and binding the values a caller gives to them, typed, with defaults and
// `values:`. Errors use the service's words:
//   "A value for the 'x' parameter must be provided." (missing, no default),
//   "Unexpected parameter 'x'" (not declared),
//   "The 'x' parameter is not a valid Boolean." (wrong type; seen for StageList in
//     dotnet/runtime#78968),
//   "The 'x' parameter value 'y' is not a valid value." (not one of `values:`),
// as Azure Pipelines reports them and as ChristopherHX/runner.server reproduces them.
import type { ExpressionValue } from '../expressions';
import type { SourceLocation } from '../model';
import { nodeToValue } from './node-values';
import { ProblemError, type Problems } from './problems';
import { isNull, readYaml, scalar, valueOf, type YMapping, type YNode } from './yaml-tree';

/** The parameter types a declaration may name, with the service's name for each in errors. */
export const parameterTypes = {
  string: 'String',
  number: 'Number',
  boolean: 'Boolean',
  object: 'Object',
  step: 'Step',
  stepList: 'StepList',
  job: 'Job',
  jobList: 'JobList',
  deployment: 'Deployment',
  deploymentList: 'DeploymentList',
  stage: 'Stage',
  stageList: 'StageList',
} as const;

/** A parameter type a declaration may name. */
export type ParameterType = keyof typeof parameterTypes;

/** One declared parameter. */
export interface ParameterDeclaration {
  readonly name: string;
  readonly type: ParameterType;
  readonly default?: YNode;
  readonly values?: readonly YNode[];
  readonly location: SourceLocation;
}

/** Which list a list type's items belong to, for template references inside it. */
export const listKindOfType: Partial<Record<ParameterType, 'steps' | 'jobs' | 'stages'>> = {
  stepList: 'steps',
  jobList: 'jobs',
  deploymentList: 'jobs',
  stageList: 'stages',
};

/**
 * Reads `parameters:`: a list of `{ name, type, default, values }`, or the older mapping
 * form `name: default` (untyped, any value).
 */
export function readDeclarations(node: YNode | undefined, problems: Problems): ParameterDeclaration[] {
  if (node === undefined || isNull(node)) return [];
  if (node.kind === 'mapping') {
    return node.entries.map((entry) => ({
      name: entry.key.text,
      type: 'object',
      default: entry.value,
      location: entry.key.location,
    }));
  }
  if (node.kind !== 'sequence') {
    problems.add(node.location, 'parameters must be a list of { name, type, default }');
    return [];
  }
  const declarations: ParameterDeclaration[] = [];
  for (const item of node.items) {
    if (item.kind !== 'mapping') {
      problems.add(item.location, 'Each parameter is a mapping: { name, type, default, values }');
      continue;
    }
    const name = valueOf(item, 'name');
    if (name?.kind !== 'scalar' || name.text === '') {
      problems.add(item.location, 'A parameter needs a name');
      continue;
    }
    for (const entry of item.entries) {
      if (!['name', 'displayName', 'type', 'default', 'values'].includes(entry.key.text))
        problems.add(entry.key.location, `Unexpected value '${entry.key.text}'`);
    }
    const typeNode = valueOf(item, 'type');
    const typeText = typeNode?.kind === 'scalar' ? typeNode.text : 'string';
    if (!Object.hasOwn(parameterTypes, typeText)) {
      problems.add(
        typeNode?.location ?? item.location,
        `The '${name.text}' parameter has type '${typeText}', which the runner does not support; ` +
          `types: ${Object.keys(parameterTypes).join(', ')}`,
      );
      continue;
    }
    const values = valueOf(item, 'values');
    if (values !== undefined && values.kind !== 'sequence') {
      problems.add(values.location, `values: of the '${name.text}' parameter must be a list`);
    }
    declarations.push({
      name: name.text,
      type: typeText as ParameterType,
      default: valueOf(item, 'default'),
      values: values?.kind === 'sequence' ? values.items : undefined,
      location: name.location,
    });
  }
  return declarations;
}

const stepKeys = [
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
];
const shapes: Record<'step' | 'job' | 'deployment' | 'stage', readonly string[]> = {
  step: stepKeys,
  job: ['job', 'deployment', 'template'],
  deployment: ['deployment', 'template'],
  stage: ['stage', 'template'],
};

function hasShape(node: YNode, kind: keyof typeof shapes): boolean {
  return node.kind === 'mapping' && node.entries.some((entry) => shapes[kind].includes(entry.key.text));
}

/** A given value converted to the declared type, or a ProblemError in the service's words. */
function convert(declaration: ParameterDeclaration, node: YNode): ExpressionValue {
  const invalid = () =>
    new ProblemError({
      location: node.location,
      message: `The '${declaration.name}' parameter is not a valid ${parameterTypes[declaration.type]}.`,
    });
  switch (declaration.type) {
    case 'string':
      if (node.kind !== 'scalar') throw invalid();
      return node.value === null ? '' : node.text;
    case 'number': {
      if (node.kind !== 'scalar') throw invalid();
      if (typeof node.value === 'number') return node.value;
      const text = node.text.trim();
      if (!/^-?(\d+\.?\d*|\.\d+)$/.test(text)) throw invalid();
      return Number(text);
    }
    case 'boolean':
      if (node.kind !== 'scalar') throw invalid();
      if (typeof node.value === 'boolean') return node.value;
      if (/^(true|false)$/i.test(node.text.trim())) return node.text.trim().toLowerCase() === 'true';
      throw invalid();
    case 'object':
      return nodeToValue(node);
    case 'step':
    case 'job':
    case 'deployment':
    case 'stage':
      if (!hasShape(node, declaration.type)) throw invalid();
      return nodeToValue(node);
    default: {
      const item = declaration.type.replace(/List$/, '') as keyof typeof shapes;
      if (isNull(node)) return [];
      if (node.kind !== 'sequence' || !node.items.every((element) => hasShape(element, item)))
        throw invalid();
      return nodeToValue(node);
    }
  }
}

function checkValues(declaration: ParameterDeclaration, value: ExpressionValue, node: YNode): void {
  if (declaration.values === undefined || value === null || typeof value === 'object') return;
  const text = String(value);
  if (declaration.values.some((allowed) => allowed.kind === 'scalar' && allowed.text === text)) return;
  throw new ProblemError({
    location: node.location,
    message: `The '${declaration.name}' parameter value '${text}' is not a valid value.`,
  });
}

/** Binding's collaborators: template references in list values, resolved where they were written. */
export interface BindingHooks {
  resolveList(node: YNode, kind: 'steps' | 'jobs' | 'stages'): YNode;
}

/**
 * Binds the values a template reference (or `--param`) gives to the declarations. Every
 * problem is recorded; a parameter with a problem is left out of the result. `where` is
 * the template reference, blamed for a missing value.
 */
export function bindParameters(
  declarations: readonly ParameterDeclaration[],
  given: YNode | undefined,
  where: SourceLocation,
  problems: Problems,
  hooks: BindingHooks,
): Record<string, ExpressionValue> {
  const bound: Record<string, ExpressionValue> = {};
  let supplied: YMapping | undefined;
  if (given !== undefined && !isNull(given)) {
    if (given.kind !== 'mapping') problems.add(given.location, 'Expected a mapping');
    else supplied = given;
  }
  const declared = new Set(declarations.map((declaration) => declaration.name));
  for (const entry of supplied?.entries ?? []) {
    if (!declared.has(entry.key.text))
      problems.add(entry.key.location, `Unexpected parameter '${entry.key.text}'`);
  }
  for (const declaration of declarations) {
    const node = supplied === undefined ? undefined : valueOf(supplied, declaration.name);
    const value = node ?? declaration.default;
    if (value === undefined) {
      problems.add(where, `A value for the '${declaration.name}' parameter must be provided.`);
      continue;
    }
    problems.attempt(() => {
      const kind = listKindOfType[declaration.type];
      const resolved = kind && value.kind === 'sequence' ? hooks.resolveList(value, kind) : value;
      const converted = convert(declaration, resolved);
      checkValues(declaration, converted, value);
      bound[declaration.name] = converted;
    });
  }
  return bound;
}

/**
 * Runtime parameters given as text (`--param name=value`) as nodes, typed by their
 * declarations: scalars as written, objects and lists read as YAML.
 */
export function runtimeParameterNodes(
  declarations: readonly ParameterDeclaration[],
  given: Readonly<Record<string, string>>,
  location: SourceLocation,
  problems: Problems,
): YMapping {
  const entries = Object.entries(given).map(([name, text]) => {
    const declaration = declarations.find((candidate) => candidate.name === name);
    const where = { ...location, file: `--param ${name}` };
    let value: YNode = scalar(text, text, where);
    if (declaration && !['string', 'number', 'boolean'].includes(declaration.type)) {
      const read = readYaml(text, `--param ${name}`);
      if (read.ok) value = read.root;
      else for (const problem of read.problems) problems.add(problem.location, problem.message);
    }
    return { key: scalar(name, name, where), value };
  });
  return { kind: 'mapping', entries, location };
}
