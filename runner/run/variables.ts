/**
 * Pipeline variables as the agent holds them: names compared without case, a value, and
 * whether it is secret or read-only. Scopes nest (run → stage → job) and a job's
 * `task.setvariable` writes into the job's own scope.
 */

/** One variable. */
export interface Variable {
  /** The name as it was first written. */
  readonly name: string;
  readonly value: string;
  readonly secret: boolean;
  readonly readonly: boolean;
}

/** A level of variables over an optional outer level; lookups fall through to the outer one. */
export class VariableScope {
  private readonly own = new Map<string, Variable>();

  constructor(private readonly outer?: VariableScope) {}

  /** A new scope inside this one. */
  child(): VariableScope {
    return new VariableScope(this);
  }

  /** Sets a variable at this level; once secret or read-only, a name stays so (as the agent keeps it). */
  set(name: string, value: string, flags: { secret?: boolean; readonly?: boolean } = {}): void {
    const previous = this.get(name);
    this.own.set(name.toLowerCase(), {
      name: previous?.name ?? name,
      value,
      secret: (flags.secret ?? false) || (previous?.secret ?? false),
      readonly: (flags.readonly ?? false) || (previous?.readonly ?? false),
    });
  }

  /** The variable, from this level or an outer one. */
  get(name: string): Variable | undefined {
    return this.own.get(name.toLowerCase()) ?? this.outer?.get(name);
  }

  /** The value, or undefined. */
  value(name: string): string | undefined {
    return this.get(name)?.value;
  }

  /** Every variable visible here, inner levels winning. */
  all(): Variable[] {
    const merged = new Map<string, Variable>();
    for (const variable of this.outer?.all() ?? []) merged.set(variable.name.toLowerCase(), variable);
    for (const [key, variable] of this.own) merged.set(key, variable);
    return [...merged.values()];
  }

  /** Every secret value visible here, for masking. */
  secretValues(): string[] {
    return this.all()
      .filter((variable) => variable.secret && variable.value.length > 0)
      .map((variable) => variable.value);
  }
}

const macro = /\$\(([^()\s]+)\)/g;

/**
 * Replaces `$(name)` with the variable's value, once, left to right, as the agent expands
 * macros when a step starts. A name that is not defined stays as it is written, as in Azure
 * Pipelines (the text `$(name)` reaches the script). Values are not expanded again.
 */
export function expandMacros(text: string, lookup: (name: string) => string | undefined): string {
  return text.replace(macro, (whole, name: string) => lookup(name) ?? whole);
}

/** The names of the macros a text refers to, in order. */
export function macroNames(text: string): string[] {
  return [...text.matchAll(macro)].map((match) => match[1]!);
}
