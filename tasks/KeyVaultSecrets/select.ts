import { quoted } from '../shared/known-secrets';
import { TaskError } from '../shared/task-error';
import { variableNameFor, type Naming } from './naming';
import type { ExactRule, ExcludeRule, GlobRule, Rule } from './rules';

/** A secret as the vault lists it: metadata only, never a value. */
export interface ListedSecret {
  readonly name: string;
  readonly enabled: boolean;
  readonly expiresOn?: Date;
}

/** One variable the task will try to set, and where its value comes from. */
export interface Target {
  readonly variable: string;
  readonly secretName: string;
  readonly version?: string;
  /** The rule named this secret itself (so problems with it are errors, not skips). */
  readonly exact: boolean;
  readonly optional: boolean;
}

/** What became of one variable, for the summary. Never holds a value. */
export interface Outcome {
  readonly variable: string;
  readonly secretName: string;
  readonly version?: string;
  readonly status: 'set' | 'skipped' | 'failed';
}

/** The result of matching the rules against the vault's names. */
export interface Plan {
  readonly targets: Target[];
  readonly outcomes: Outcome[];
  readonly errors: TaskError[];
  readonly warnings: TaskError[];
  /** Informational lines, such as an optional secret that is missing. */
  readonly notes: TaskError[];
}

/**
 * Matches the rules against the listed secrets (undefined when no rule needs a listing).
 * Explicit rules win over wildcards for the same secret; exclusions only narrow wildcards.
 * Wildcards skip disabled and expired secrets with a warning each; an explicit rule that
 * names one is an error. Two secrets that map to one variable are an error naming both.
 */
export function planSecrets(
  rules: readonly Rule[],
  listing: readonly ListedSecret[] | undefined,
  naming: Naming,
  vaultName: string,
  now: Date,
): Plan {
  const exacts = rules.filter((rule): rule is ExactRule => rule.kind === 'exact');
  const globs = rules.filter((rule) => rule.kind === 'glob');
  const excludes = rules.filter((rule) => rule.kind === 'exclude');
  const named = new Set(exacts.map((rule) => rule.name.toLowerCase()));
  const plan: Plan = { targets: [], outcomes: [], errors: [], warnings: [], notes: [] };

  for (const glob of globs) {
    if (listing && !listing.some((secret) => glob.matches(secret.name))) {
      plan.warnings.push(new TaskError('RuleMatchedNothing', [glob.text, vaultName]));
    }
  }

  for (const secret of listing ?? []) {
    if (!wildcardSelects(secret.name, named, globs, excludes)) continue;
    const variable = variableNameFor(secret.name, naming);
    if (!secret.enabled) {
      plan.warnings.push(new TaskError('SecretDisabledSkipped', [secret.name]));
      plan.outcomes.push({ variable, secretName: secret.name, status: 'skipped' });
    } else if (isExpired(secret.expiresOn, now)) {
      plan.warnings.push(new TaskError('SecretExpiredSkipped', [secret.name, isoDate(secret.expiresOn)]));
      plan.outcomes.push({ variable, secretName: secret.name, status: 'skipped' });
    } else {
      plan.targets.push({ variable, secretName: secret.name, exact: false, optional: false });
    }
  }

  for (const rule of exacts) {
    const variable = rule.variable ?? variableNameFor(rule.name, naming);
    const target: Target = {
      variable,
      secretName: rule.name,
      exact: true,
      optional: rule.optional,
      ...(rule.version ? { version: rule.version } : {}),
    };
    const listed = listing?.find((secret) => secret.name.toLowerCase() === rule.name.toLowerCase());
    // The listing describes the latest version only, so a pinned version is judged when it is fetched.
    if (!listing || rule.version) {
      plan.targets.push(target);
    } else if (!listed && rule.optional) {
      plan.notes.push(new TaskError('SecretOptionalMissing', [rule.name, vaultName]));
      plan.outcomes.push({ variable, secretName: rule.name, status: 'skipped' });
    } else if (!listed) {
      plan.errors.push(
        notFound(
          rule.name,
          vaultName,
          listing.map((secret) => secret.name),
        ),
      );
      plan.outcomes.push({ variable, secretName: rule.name, status: 'failed' });
    } else if (!listed.enabled) {
      plan.errors.push(new TaskError('SecretDisabled', [rule.name, vaultName]));
      plan.outcomes.push({ variable, secretName: rule.name, status: 'failed' });
    } else if (isExpired(listed.expiresOn, now)) {
      plan.errors.push(new TaskError('SecretExpired', [rule.name, isoDate(listed.expiresOn), vaultName]));
      plan.outcomes.push({ variable, secretName: rule.name, status: 'failed' });
    } else {
      plan.targets.push(target);
    }
  }

  return rejectCollisions(plan);
}

/**
 * Whether the plan for `rules` fetches the latest value of a listed secret, judged from that
 * secret alone: it is enabled and not expired at `now`, and either an exact rule without a
 * version names it, or a wildcard selects it (matched, not excluded, not named exactly).
 * Only a variable collision with another secret, found on the whole listing, can still drop
 * it. This lets values be fetched while the listing is still arriving page by page.
 */
export function fetchesLatest(rules: readonly Rule[], now: Date): (secret: ListedSecret) => boolean {
  const exacts = rules.filter((rule): rule is ExactRule => rule.kind === 'exact');
  const globs = rules.filter((rule) => rule.kind === 'glob');
  const excludes = rules.filter((rule) => rule.kind === 'exclude');
  const named = new Set(exacts.map((rule) => rule.name.toLowerCase()));
  const namedLatest = new Set(exacts.filter((rule) => !rule.version).map((rule) => rule.name.toLowerCase()));
  return (secret) => {
    if (!secret.enabled || isExpired(secret.expiresOn, now)) return false;
    const name = secret.name.toLowerCase();
    return namedLatest.has(name) || wildcardSelects(secret.name, named, globs, excludes);
  };
}

/** The "not found" error, with the closest listed name as a suggestion when one is close. */
export function notFound(name: string, vaultName: string, listedNames: readonly string[]): TaskError {
  const suggestion = closestName(name, listedNames);
  return suggestion
    ? new TaskError('SecretNotFoundDidYouMean', [name, vaultName, suggestion])
    : new TaskError('SecretNotFound', [name, vaultName]);
}

/** The listed name nearest to `name` by edit distance, if it is near enough to be a likely typo. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const wanted = name.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  const tolerance = Math.max(2, Math.floor(name.length / 3));
  return best && best.distance <= tolerance ? best.name : undefined;
}

/** True when `expiresOn` is set and not after `now`. */
export function isExpired(expiresOn: Date | undefined, now: Date): boolean {
  return expiresOn !== undefined && expiresOn.getTime() <= now.getTime();
}

/** A date as the messages show it: ISO 8601 in UTC. */
export function isoDate(date: Date | undefined): string {
  return date ? date.toISOString() : '';
}

// A wildcard takes a secret that it matches, that no exclusion removes and that no exact rule
// names (the exact rule wins, pinned versions included).
function wildcardSelects(
  name: string,
  named: ReadonlySet<string>,
  globs: readonly GlobRule[],
  excludes: readonly ExcludeRule[],
): boolean {
  return (
    !named.has(name.toLowerCase()) &&
    globs.some((glob) => glob.matches(name)) &&
    !excludes.some((exclude) => exclude.matches(name))
  );
}

// Azure DevOps variable names are case-insensitive, so DB_PASSWORD and db_password collide.
function rejectCollisions(plan: Plan): Plan {
  const byVariable = new Map<string, Target[]>();
  for (const target of plan.targets) {
    const key = target.variable.toLowerCase();
    byVariable.set(key, [...(byVariable.get(key) ?? []), target]);
  }
  const targets: Target[] = [];
  for (const group of byVariable.values()) {
    const sources = [...new Set(group.map(describeSource))];
    if (sources.length === 1) {
      targets.push(group[0] as Target);
      continue;
    }
    const variable = (group[0] as Target).variable;
    plan.errors.push(new TaskError('VariableCollision', [quoted(variable), sources.join("', '")]));
    for (const target of group) plan.outcomes.push({ ...target, status: 'failed' });
  }
  return { ...plan, targets };
}

function describeSource(target: Target): string {
  const name = target.secretName.toLowerCase();
  return target.version ? `${name}/${target.version}` : name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
