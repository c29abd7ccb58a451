/**
 * Parsers for the kinds of input the built-ins read: one per kind, each failing with one
 * line that names the input and the accepted forms.
 */
import { isAbsolute, resolve } from 'node:path';
import type { BuiltinContext } from '../types';
import { StepFailure } from './failure';

/** The input's value, trimmed; '' when absent. */
export function textInput(context: BuiltinContext, name: string): string {
  return (context.inputs[name] ?? '').trim();
}

/** A required input's value, or a failure naming it. */
export function requiredInput(context: BuiltinContext, name: string): string {
  const value = textInput(context, name);
  if (!value) throw new StepFailure(`Input required: ${name}. Set it in the step's inputs.`);
  return value;
}

/**
 * A boolean input: `true` or `false` in any case, empty for `fallback`. task-lib reads any
 * other text as false; here it is refused, so a typo is not silently a `false`.
 */
export function booleanInput(context: BuiltinContext, name: string, fallback = false): boolean {
  const value = textInput(context, name).toLowerCase();
  if (value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new StepFailure(`Input '${name}' is '${context.inputs[name]}': write true or false.`);
}

/** A pickList input: one of `allowed` (case ignored, returned as written in `allowed`), empty for `fallback`. */
export function choiceInput<T extends string>(
  context: BuiltinContext,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = textInput(context, name);
  if (value === '') return fallback;
  const found = allowed.find((option) => option.toLowerCase() === value.toLowerCase());
  if (found === undefined) {
    throw new StepFailure(`Input '${name}' is '${value}': use one of ${allowed.join(', ')}.`);
  }
  return found;
}

/**
 * A path input rooted as the agent roots `filePath` inputs (TaskRunner.TranslateFilePathInput):
 * a relative path is joined to System.DefaultWorkingDirectory; empty is that folder itself.
 */
export function pathInput(context: BuiltinContext, name: string): string {
  return rootedPath(context, textInput(context, name));
}

/** `path` made absolute against System.DefaultWorkingDirectory. */
export function rootedPath(context: BuiltinContext, path: string): string {
  return isAbsolute(path) ? resolve(path) : resolve(context.workingDirectory, path);
}

/** The non-empty lines of a multiLine input, trimmed. */
export function lineList(value: string): string[] {
  return value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * A command line split into arguments as task-lib's ToolRunner.line() splits it: spaces
 * separate, double quotes group, and a backslash escapes only a double quote.
 */
export function splitArguments(text: string): string[] {
  const args: string[] = [];
  let current = '';
  let inQuotes = false;
  let escaped = false;
  let started = false;
  for (const char of text) {
    if (escaped) {
      current += char === '"' ? '"' : `\\${char}`;
      escaped = false;
      started = true;
      continue;
    }
    if (char === '\\' && inQuotes) {
      escaped = true;
      continue;
    }
    if (char === '"') {
      inQuotes = !inQuotes;
      started = true;
      continue;
    }
    if (char === ' ' && !inQuotes) {
      if (started) args.push(current);
      current = '';
      started = false;
      continue;
    }
    current += char;
    started = true;
  }
  if (escaped) current += '\\';
  if (started) args.push(current);
  return args;
}
