import { quoted } from '../shared/known-secrets';
import { TaskError } from '../shared/task-error';

/**
 * The `secrets` input's rule language, one rule per line or separated by commas:
 *
 *   *                                every secret
 *   db-password                      one secret, by exact name
 *   app-*                            a glob (`*` matches any run of characters)
 *   db-password => DB_PASSWORD       an exact name, mapped to a variable name
 *   db-password/<version> => DB_PW   a pinned version (a mapping is optional)
 *   feature-flag?                    optional: skipped when the secret is missing
 *   !legacy-*                        excludes names from the wildcard rules
 */

/** A rule that names one secret. */
export interface ExactRule {
  readonly kind: 'exact';
  readonly text: string;
  readonly name: string;
  readonly version?: string;
  readonly variable?: string;
  readonly optional: boolean;
}

/** A rule that matches names by pattern (`*` is a pattern too). */
export interface GlobRule {
  readonly kind: 'glob';
  readonly text: string;
  readonly matches: (name: string) => boolean;
}

/** A rule that removes names from what the glob rules matched. */
export interface ExcludeRule {
  readonly kind: 'exclude';
  readonly text: string;
  readonly matches: (name: string) => boolean;
}

export type Rule = ExactRule | GlobRule | ExcludeRule;

// Key Vault object names: 1 to 127 letters, digits and dashes.
// https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates#objects-identifiers-and-versioning
const maxNameLength = 127;
const secretName = /^[0-9A-Za-z-]{1,127}$/;
const secretPattern = /^[0-9A-Za-z*-]{1,127}$/;
// Versions are 32 hex digits.
const secretVersion = /^[0-9A-Fa-f]{32}$/;
// Pipeline variable names: letters, digits, `.`, `_` and `-`; not starting with `.` or `-`.
const variableName = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Parses the `secrets` input's lines as written, blank ones included, so that each
 * malformed rule becomes one TaskError that gives its line number.
 */
export function parseRules(lines: readonly string[]): { rules: Rule[]; errors: TaskError[] } {
  const rules: Rule[] = [];
  const errors: TaskError[] = [];
  lines.forEach((line, index) => {
    for (const text of line.split(',').map((each) => each.trim())) {
      if (text.length === 0) continue;
      try {
        rules.push(parseRule(text, index + 1));
      } catch (error) {
        if (!(error instanceof TaskError)) throw error;
        errors.push(error);
      }
    }
  });
  if (rules.length === 0 && errors.length === 0) errors.push(new TaskError('RulesEmpty'));
  return { rules, errors };
}

/** Parses one rule, found on `line` of the input, or throws a TaskError that says what is wrong with it. */
export function parseRule(text: string, line = 1): Rule {
  const malformed = (reason: string): TaskError =>
    new TaskError('RuleMalformed', [line, quoted(text), reason]);
  const tooLong = (part: string): TaskError =>
    malformed(`a secret name or pattern is at most 127 characters, and this one has ${part.length}`);

  if (text.startsWith('!')) {
    const pattern = text.slice(1).trim();
    if (pattern.length > maxNameLength) throw tooLong(pattern);
    if (!secretPattern.test(pattern))
      throw malformed('an exclusion is ! and a name or glob, such as !legacy-*');
    return { kind: 'exclude', text, matches: globMatcher(pattern) };
  }

  const [source = '', target, ...extra] = text.split('=>').map((part) => part.trim());
  if (extra.length > 0) throw malformed('a rule has at most one =>');
  if (target !== undefined && !variableName.test(target)) {
    throw malformed('after => comes a variable name of letters, digits, _, . and -, such as DB_PASSWORD');
  }

  const optional = source.endsWith('?');
  const [name = '', version, ...more] = (optional ? source.slice(0, -1) : source).split('/');
  if (more.length > 0) throw malformed('a rule is name or name/version');

  if (name.length > maxNameLength) throw tooLong(name);
  if (name.includes('*')) {
    if (!secretPattern.test(name)) throw malformed('a glob uses letters, digits, - and *, such as app-*');
    if (target !== undefined)
      throw malformed('a glob matches many secrets, so it cannot map to one variable');
    if (version !== undefined) throw malformed('a glob cannot pin a version');
    if (optional) throw malformed('a glob that matches nothing is never an error, so ? is not needed');
    return { kind: 'glob', text, matches: globMatcher(name) };
  }

  if (!secretName.test(name)) {
    throw malformed('a secret name is 1 to 127 letters, digits and dashes, such as db-password');
  }
  if (version !== undefined && !secretVersion.test(version)) {
    throw malformed('a version is the 32 hex digits at the end of the secret identifier');
  }
  return {
    kind: 'exact',
    text,
    name,
    optional,
    ...(version !== undefined ? { version: version.toLowerCase() } : {}),
    ...(target !== undefined ? { variable: target } : {}),
  };
}

/** True when any rule needs the vault's list of names (globs and exclusions do). */
export function needsListing(rules: readonly Rule[]): boolean {
  return rules.some((rule) => rule.kind === 'glob');
}

// Key Vault names are case-insensitive, so are the patterns.
function globMatcher(pattern: string): (name: string) => boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`, 'i');
  return (name) => regex.test(name);
}
