// The values an Azure Pipelines expression works with, and the documented casting rules
// between them ("Type casting" in
// https://learn.microsoft.com/azure/devops/pipelines/process/expressions#type-casting).

/** A version literal or value: two to four numeric segments (`1.2`, `1.2.3`, `1.2.3.4`). */
export class Version {
  constructor(readonly segments: readonly number[]) {}

  /** Parses text as .NET's Version.TryParse does: 2 to 4 segments of non-negative integers. */
  static parse(text: string): Version | undefined {
    const trimmed = text.trim();
    if (!/^\d+(\.\d+){1,3}$/.test(trimmed)) return undefined;
    const segments = trimmed.split('.').map(Number);
    return segments.every((segment) => segment <= 2147483647) ? new Version(segments) : undefined;
  }

  /** Negative, zero or positive, segment by segment; a missing segment sorts first. */
  compare(other: Version): number {
    for (let index = 0; index < 4; index++) {
      const mine = this.segments[index] ?? -1;
      const theirs = other.segments[index] ?? -1;
      if (mine !== theirs) return mine - theirs;
    }
    return 0;
  }

  toString(): string {
    return this.segments.join('.');
  }
}

/** A mapping value; keys are looked up without regard to case. */
export interface ExpressionObject {
  readonly [key: string]: ExpressionValue;
}

/**
 * What an expression reads and returns: YAML's scalars, sequences and mappings, a version,
 * or a point in time (`pipeline.startTime`).
 */
export type ExpressionValue =
  string | number | boolean | null | Version | Date | readonly ExpressionValue[] | ExpressionObject;

/** The kinds the casting rules distinguish, named as the service names them in errors. */
export type ValueKind =
  'Null' | 'Boolean' | 'Number' | 'String' | 'Version' | 'DateTime' | 'Array' | 'Object';

/** The kind of a value. */
export function kindOf(value: ExpressionValue): ValueKind {
  if (value === null) return 'Null';
  if (typeof value === 'boolean') return 'Boolean';
  if (typeof value === 'number') return 'Number';
  if (typeof value === 'string') return 'String';
  if (value instanceof Version) return 'Version';
  if (value instanceof Date) return 'DateTime';
  if (Array.isArray(value)) return 'Array';
  return 'Object';
}

/** Whether a value is a mapping (not a sequence, version or date). */
export function isObject(value: ExpressionValue | undefined): value is ExpressionObject {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof Version) &&
    !(value instanceof Date)
  );
}

/** Thrown when a value cannot become the kind an operation needs. */
export class ConversionError extends Error {
  override name = 'ConversionError';
  constructor(from: ValueKind, to: ValueKind, value: ExpressionValue) {
    super(`Unable to convert from ${from} to ${to}. Value: ${describeValue(value)}`);
  }
}

/** How a value is quoted in an error: strings in single quotes, collections by kind. */
export function describeValue(value: ExpressionValue): string {
  const kind = kindOf(value);
  if (kind === 'String') return `'${value as string}'`;
  if (kind === 'Array' || kind === 'Object') return kind;
  return textOf(value) ?? kind;
}

/**
 * Truthiness, the Boolean cast: false, 0, '' and null are false; every other value,
 * collections and versions included, is true. Note that the string 'false' is true.
 */
export function isTruthy(value: ExpressionValue): boolean {
  if (value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value.length > 0;
  return true;
}

// Strings become numbers as .NET's Decimal.TryParse with AllowDecimalPoint,
// AllowLeadingSign, AllowLeadingWhite, AllowTrailingWhite and AllowThousands: no hex, no
// exponent, commas allowed between digits.
const numberText = /^\s*[+-]?(\d[\d,]*)?(\.\d*)?\s*$/;

/** The Number cast, or undefined when the value has none (collections, versions, non-numeric text). */
export function tryNumber(value: ExpressionValue): number | undefined {
  if (value === null) return 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value === '') return 0;
    if (!numberText.test(value) || !/\d/.test(value)) return undefined;
    return Number(value.replace(/[,\s]/g, ''));
  }
  return undefined;
}

/** The Number cast; throws a ConversionError when there is none. */
export function toNumber(value: ExpressionValue): number {
  const number = tryNumber(value);
  if (number === undefined) throw new ConversionError(kindOf(value), 'Number', value);
  return number;
}

/** The Version cast, or undefined (only versions, and numbers or strings that read as one, have one). */
export function tryVersion(value: ExpressionValue): Version | undefined {
  if (value instanceof Version) return value;
  if (typeof value === 'number') return Version.parse(formatNumber(value));
  if (typeof value === 'string') return Version.parse(value);
  return undefined;
}

/**
 * Numbers as the service writes them (.NET's "0.#######"): no exponent, no thousands
 * separator, at most seven decimals, no trailing zeros.
 */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(value)) return BigInt(value).toString();
  const fixed = value.toFixed(7).replace(/\.?0+$/, '');
  return fixed === '-0' ? '0' : fixed;
}

function pad(value: number, width: number): string {
  return String(Math.abs(value)).padStart(width, '0');
}

/** A point in time as the service writes it: `yyyy-MM-dd HH:mm:ss+00:00`, in UTC. */
export function formatDateTime(date: Date): string {
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)} ` +
    `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}+00:00`
  );
}

// The String cast; collections have none.
function textOf(value: ExpressionValue): string | undefined {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  // .NET's Boolean.ToString(): what `${{ true }}` becomes inside a YAML string.
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return formatNumber(value);
  if (value instanceof Version) return value.toString();
  if (value instanceof Date) return formatDateTime(value);
  return undefined;
}

/** The String cast, or undefined for sequences and mappings. */
export function tryText(value: ExpressionValue): string | undefined {
  return textOf(value);
}

/**
 * The String cast, as a value becomes text inside a YAML string or a function's string
 * argument: `True`/`False`, numbers without exponent, null as ''. Sequences and mappings
 * have no text: a ConversionError.
 */
export function toText(value: ExpressionValue): string {
  const text = textOf(value);
  if (text === undefined) throw new ConversionError(kindOf(value), 'String', value);
  return text;
}

/**
 * `eq`: the right value is cast to the left's kind (ordinal, case-insensitive for
 * strings); a failed cast means not equal. Collections are equal only to themselves.
 */
export function valuesEqual(left: ExpressionValue, right: ExpressionValue): boolean {
  switch (kindOf(left)) {
    case 'Null':
      return right === null || right === '';
    case 'Boolean':
      return left === isTruthy(right);
    case 'Number': {
      const number = tryNumber(right);
      return number !== undefined && number === left;
    }
    case 'String': {
      const text = textOf(right);
      return text !== undefined && (left as string).toUpperCase() === text.toUpperCase();
    }
    case 'Version': {
      const version = tryVersion(right);
      return version !== undefined && (left as Version).compare(version) === 0;
    }
    case 'DateTime':
      return right instanceof Date && right.getTime() === (left as Date).getTime();
    default:
      return left === right;
  }
}

/**
 * `gt`, `ge`, `lt`, `le`: negative, zero or positive. The right value is cast to the left's
 * kind and a failed cast is an error; a left value that is null or a collection is cast to
 * a number first.
 */
export function compareValues(left: ExpressionValue, right: ExpressionValue): number {
  const kind = kindOf(left);
  switch (kind) {
    case 'Boolean':
      return Number(left) - Number(isTruthy(right));
    case 'String': {
      const a = (left as string).toUpperCase();
      const b = toText(right).toUpperCase();
      return a < b ? -1 : a > b ? 1 : 0;
    }
    case 'Version': {
      const version = tryVersion(right);
      if (version === undefined) throw new ConversionError(kindOf(right), 'Version', right);
      return (left as Version).compare(version);
    }
    case 'DateTime': {
      if (!(right instanceof Date)) throw new ConversionError(kindOf(right), 'DateTime', right);
      return (left as Date).getTime() - right.getTime();
    }
    default:
      return toNumber(left) - toNumber(right);
  }
}

/** Looks a key up in a mapping as the service does: ignoring case. Null when absent. */
export function propertyOf(object: ExpressionObject, key: string): ExpressionValue {
  if (Object.hasOwn(object, key)) return object[key];
  const upper = key.toUpperCase();
  const match = Object.keys(object).find((name) => name.toUpperCase() === upper);
  return match === undefined ? null : object[match];
}
