// Types of scripts/prepare.mjs for the tests that import it.

/** A package entry of package-lock.json or node_modules/.package-lock.json. */
export interface LockEntry {
  readonly version?: string;
  readonly optional?: boolean;
}

/** A parsed package-lock.json or node_modules/.package-lock.json. */
export interface Lockfile {
  readonly packages?: Readonly<Record<string, LockEntry>>;
}

/** Whether node_modules holds what package-lock.json locks. */
export type NpmInstallState =
  | { readonly state: 'fresh' }
  | { readonly state: 'absent' }
  | { readonly state: 'stale'; readonly reason: string };

/** The commands prepare prepares for. */
export type Command = 'demo' | 'test';

/** What each command needs besides the npm packages and the system packages. */
export declare const commands: Readonly<Record<Command, { readonly node24: boolean }>>;

/** Whether node_modules holds what package-lock.json locks (see prepare.mjs). */
export declare function npmInstallState(facts: {
  readonly lock: Lockfile;
  readonly installed: Lockfile | undefined;
  readonly present: (path: string) => boolean;
}): NpmInstallState;

/** One step: run an action (after printing `say`), or stop with `fail`. */
export type Step =
  | { readonly run: 'npm-ci' | 'system-packages' | 'node24'; readonly say?: string }
  | { readonly fail: string };

/** The steps that prepare `command`, in order (see prepare.mjs). */
export declare function plan(facts: {
  readonly command: Command;
  readonly npm: NpmInstallState;
  readonly linkedTo: string | undefined;
  readonly missingPackages: readonly string[];
  readonly root: boolean;
  readonly node24Installed: boolean;
}): Step[];
