// `format('{0} and {1:yyyyMMdd}', a, b)`: placeholders by index, `{{` and `}}` for braces,
// and .NET-style date specifiers for a point in time such as `pipeline.startTime`.
import { kindOf, toText, type ExpressionValue } from './values';

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

// One run of equal letters, an escaped character or spaces, as .NET reads date specifiers.
const specifier = /\\.|( +)|(.)\2*/gs;

function formatDate(date: Date, specifiers: string): string {
  let result = '';
  for (const [part] of specifiers.matchAll(specifier)) {
    const fractions = pad(date.getUTCMilliseconds(), 3) + '0000';
    if (part.startsWith('\\')) {
      if (part.length < 2)
        throw new Error(`The format specifiers '${specifiers}' are not valid for objects of type 'DateTime'`);
      result += part[1];
      continue;
    }
    if (part.startsWith(' ')) {
      result += part;
      continue;
    }
    const values: Record<string, string> = {
      yyyy: pad(date.getUTCFullYear(), 4),
      yy: pad(date.getUTCFullYear() % 100, 2),
      MM: pad(date.getUTCMonth() + 1, 2),
      M: String(date.getUTCMonth() + 1),
      dd: pad(date.getUTCDate(), 2),
      d: String(date.getUTCDate()),
      HH: pad(date.getUTCHours(), 2),
      H: String(date.getUTCHours()),
      mm: pad(date.getUTCMinutes(), 2),
      m: String(date.getUTCMinutes()),
      ss: pad(date.getUTCSeconds(), 2),
      s: String(date.getUTCSeconds()),
      // The runner's times are UTC, so the offset is always zero.
      zzz: '+00:00',
      K: '+00:00',
    };
    if (/^f{1,7}$/.test(part)) result += fractions.slice(0, part.length);
    else if (Object.hasOwn(values, part)) result += values[part];
    else
      throw new Error(`The format specifiers '${specifiers}' are not valid for objects of type 'DateTime'`);
  }
  return result;
}

/**
 * The format function. Throws an Error with the service's wording when the format string
 * is malformed or names an argument that was not given.
 */
export function formatText(format: string, args: readonly ExpressionValue[]): string {
  let result = '';
  let at = 0;
  const invalid = () => new Error(`The following format string is invalid: ${format}`);
  while (at < format.length) {
    const char = format[at];
    if (char === '{') {
      if (format[at + 1] === '{') {
        result += '{';
        at += 2;
        continue;
      }
      const match = /^\{(\d+)(?::((?:[^}]|\}\})*))?\}/.exec(format.slice(at));
      if (!match) throw invalid();
      const index = Number(match[1]);
      if (index >= args.length)
        throw new Error(
          `The following format string references more arguments than were supplied: ${format}`,
        );
      const value = args[index];
      const specifiers = match[2]?.replace(/\}\}/g, '}');
      if (specifiers) {
        if (!(value instanceof Date))
          throw new Error(
            `The format specifiers '${specifiers}' are not valid for objects of type '${kindOf(value)}'`,
          );
        result += formatDate(value, specifiers);
      } else {
        result += toText(value);
      }
      at += match[0].length;
    } else if (char === '}') {
      if (format[at + 1] !== '}') throw invalid();
      result += '}';
      at += 2;
    } else {
      result += char;
      at++;
    }
  }
  return result;
}
