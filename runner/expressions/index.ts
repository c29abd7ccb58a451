// The expression language of Azure Pipelines, shared by compile time (`${{ }}`) and the
// run (`$[ ]` variables and `condition:`).
export { ExpressionError } from './errors';
export { checkExpression, evaluate, type EvaluationContext, type ExtraFunction } from './evaluate';
export { builtinFunctions, runtimeOnlyFunctions } from './functions';
export { parseExpression, type ExpressionNode, type ParsedExpression } from './parser';
export {
  hasTemplateExpression,
  isDeferredValue,
  templateExpressionsIn,
  templateSegments,
  wholeRuntimeExpression,
  wholeTemplateExpression,
  type TemplateSegment,
} from './text';
export {
  Version,
  compareValues,
  formatNumber,
  isObject,
  isTruthy,
  kindOf,
  toNumber,
  toText,
  valuesEqual,
  type ExpressionObject,
  type ExpressionValue,
  type ValueKind,
} from './values';
