// Cross-checks a template's declared parameters against its `${{ }}` expressions: every
// `parameters.x` must be declared, and every declared parameter must be read somewhere.
import { templateExpressionsIn as expressionsIn } from '../../runner/expressions';
import type { TemplateValue } from './yaml-data';

// The names a template's `parameters:` declares (list form, or the older mapping form).
function declaredParameters(document: TemplateValue): string[] {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return [];
  const declarations = document.parameters;
  if (Array.isArray(declarations)) {
    return declarations.flatMap((declaration) =>
      declaration !== null &&
      typeof declaration === 'object' &&
      !Array.isArray(declaration) &&
      typeof declaration.name === 'string'
        ? [declaration.name]
        : [],
    );
  }
  return declarations !== null && typeof declarations === 'object' ? Object.keys(declarations) : [];
}

function allExpressions(node: TemplateValue): string[] {
  if (typeof node === 'string') return expressionsIn(node);
  if (Array.isArray(node)) return node.flatMap(allExpressions);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => [...expressionsIn(key), ...allExpressions(value)]);
}

/** The parameter names an expression reads: `parameters.x` and `parameters['x']`. */
export function parameterReferences(expression: string): string[] {
  const names = [
    ...expression.matchAll(/\bparameters\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*'([^']+)'\s*\])/g),
  ];
  return names.map((match) => match[1] ?? match[2]);
}

/** Undeclared references and unused declarations in one template, one line each. */
export function checkParameterUsage(document: TemplateValue, file: string): string[] {
  const declared = declaredParameters(document);
  const body =
    document !== null && typeof document === 'object' && !Array.isArray(document) ? { ...document } : {};
  delete (body as Record<string, TemplateValue>).parameters;
  const expressions = allExpressions(body as TemplateValue);
  const referenced = new Set(expressions.flatMap(parameterReferences));
  const problems = [...referenced]
    .filter((name) => !declared.includes(name))
    .map((name) => `${file}: \${{ parameters.${name} }} is not a declared parameter`);
  problems.push(
    ...declared
      .filter((name) => !referenced.has(name))
      .map((name) => `${file}: parameter '${name}' is declared but never used`),
  );
  return problems;
}
