import * as tl from 'azure-pipelines-task-lib/task';
import { quoted } from './known-secrets';
import { TaskError } from './task-error';

/**
 * Typed readers for task inputs. Entry files call these once, up front, to build a
 * task's config; nothing deeper reads inputs. Each failure is a TaskError that names
 * the input and what it accepts, and quotes the value redacted and cut to 200 characters.
 */

/** A string input; `undefined` when empty. Surrounding whitespace is dropped. */
export function optionalString(name: string): string | undefined {
  const value = tl.getInput(name, false)?.trim();
  return value ? value : undefined;
}

/** A string input that must be set; `hint` says how to set it. */
export function requiredString(name: string, hint: string): string {
  const value = optionalString(name);
  if (value === undefined) throw new TaskError('InputRequired', [name, hint]);
  return value;
}

/** A multi-line input split into trimmed, non-empty lines. */
export function lines(name: string): string[] {
  return (tl.getInput(name, false) ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** A multi-line input's lines as written, blank ones included, for parsers that report line numbers. */
export function numberedLines(name: string): string[] {
  return (tl.getInput(name, false) ?? '').split(/\r?\n/);
}

/** A boolean input, accepting true/false in any case; anything else is an error. */
export function boolean(name: string, defaultValue: boolean): boolean {
  const raw = optionalString(name);
  if (raw === undefined) return defaultValue;
  if (/^true$/i.test(raw)) return true;
  if (/^false$/i.test(raw)) return false;
  throw new TaskError('InputNotBoolean', [name, quoted(raw)]);
}

/** A whole-number input within [min, max]. */
export function integer(name: string, defaultValue: number, min: number, max: number): number {
  const raw = optionalString(name);
  if (raw === undefined) return defaultValue;
  const value = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TaskError('InputNotInteger', [name, min, max, quoted(raw)]);
  }
  return value;
}

/** A pickList input whose value must be one of `options` (matched without case). */
export function oneOf<T extends string>(name: string, options: readonly T[], defaultValue: T): T {
  const raw = optionalString(name);
  if (raw === undefined) return defaultValue;
  const match = options.find((option) => option.toLowerCase() === raw.toLowerCase());
  if (match === undefined) throw new TaskError('InputNotInList', [name, options.join(', '), quoted(raw)]);
  return match;
}
