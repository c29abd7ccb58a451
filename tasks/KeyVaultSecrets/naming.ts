/** How a secret name becomes a variable name when its rule has no `=>`. */
export type NamingMode = 'asIs' | 'upperSnake' | 'prefix';

/** The accepted values of the `variableNames` input. */
export const namingModes: readonly NamingMode[] = ['asIs', 'upperSnake', 'prefix'];

/** The naming settings from the task's inputs. */
export interface Naming {
  readonly mode: NamingMode;
  /** Put before every name in `prefix` mode. */
  readonly prefix: string;
}

/**
 * The variable name for `secretName`: `db-password` stays as is, becomes `DB_PASSWORD`
 * in upperSnake mode (camelCase humps split too: `dbPassword` is `DB_PASSWORD`), or
 * `KV_db-password` with the prefix `KV_`.
 */
export function variableNameFor(secretName: string, naming: Naming): string {
  switch (naming.mode) {
    case 'asIs':
      return secretName;
    case 'upperSnake':
      return secretName
        .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
        .replace(/-/g, '_')
        .toUpperCase();
    case 'prefix':
      return `${naming.prefix}${secretName}`;
  }
}
