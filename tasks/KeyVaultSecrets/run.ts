import type { StepPlace } from '../shared/summary-file';
import { TaskError, TaskErrors } from '../shared/task-error';
import { counted } from '../shared/wording';
import {
  classifyVaultError,
  failureMessage,
  getDeniedMessage,
  isGetDenial,
  isVaultWide,
  type GetDenial,
  type VaultFailure,
} from './failures';
import { renderExport, type ExportEntry, type ExportFormat } from './export';
import type { Naming } from './naming';
import { createPool } from './pool';
import { needsListing, type Rule } from './rules';
import {
  fetchesLatest,
  isExpired,
  isoDate,
  notFound,
  planSecrets,
  type ListedSecret,
  type Outcome,
  type Target,
} from './select';
import { renderSummary } from './summary';
import { listAllSecrets, type FetchedSecret, type VaultClient } from './vault';

/** Everything the task was asked to do, parsed from its inputs. */
export interface RunConfig {
  readonly vaultName: string;
  readonly rules: readonly Rule[];
  readonly naming: Naming;
  readonly allowEmptyValues: boolean;
  readonly concurrency: number;
  /** The stage and environment the step runs in, for the summary's heading. */
  readonly place?: StepPlace;
  readonly export?: {
    readonly path: string;
    readonly format: ExportFormat;
    /** Under Agent.TempDirectory, which the agent deletes after the job. */
    readonly temporary: boolean;
  };
}

/** The effects the core asks of its shell: the vault, the agent's variables and files. */
export interface RunDeps {
  readonly vault: VaultClient;
  /** Sets a secret pipeline variable, masked, value byte for byte. */
  setSecretVariable(name: string, value: string): void;
  setOutputVariable(name: string, value: string): void;
  warn(warning: TaskError): void;
  info(message: TaskError): void;
  /** Writes a file only the agent user may read (mode 0600). */
  writeSecretFile(path: string, content: string): void;
  uploadSummary(markdown: string): void;
  /** The shared sign-in code's one line for a credential failure. */
  describeSignInFailure(cause: unknown): TaskError;
  now(): Date;
}

/** Names of the variables set, comma-separated; the task's one output variable. */
export const secretNamesOutput = 'secretNames';

// Secrets shorter than this are masked everywhere they appear, ordinary words included.
const shortSecretLength = 4;

/**
 * Loads the secrets the rules select into variables. Every rule is tried; variables that
 * could be set stay set, and the problems are thrown together at the end as TaskErrors.
 */
export async function run(config: RunConfig, deps: RunDeps): Promise<void> {
  const errors: TaskError[] = [];
  const describe = (
    failure: VaultFailure,
    context: Omit<Parameters<typeof failureMessage>[1], 'vaultName'>,
  ) =>
    failureMessage(failure, { vaultName: config.vaultName, ...context }, (cause) =>
      deps.describeSignInFailure(cause),
    );

  // One request per distinct secret version, however many variables it feeds, all in one pool.
  // A vault-wide failure stops the pool: what has not started never does.
  let stopWith: { failure: VaultFailure; message: TaskError } | undefined;
  let listingFailed = false;
  const pool = createPool(config.concurrency, () => stopWith !== undefined || listingFailed);
  const fetches = new Map<string, Promise<FetchedSecret | VaultFailure | undefined>>();
  const get = async (secretName: string, version?: string): Promise<FetchedSecret | VaultFailure> => {
    try {
      return await deps.vault.getSecret(secretName, version);
    } catch (error) {
      const failure = classifyVaultError(error, config.vaultName);
      if (isVaultWide(failure) && !stopWith) {
        stopWith = { failure, message: describe(failure, { operation: 'get', secretName }) };
      }
      return failure;
    }
  };
  const fetchOnce = (secretName: string, version?: string) => {
    const key = fetchKey(secretName, version);
    let fetch = fetches.get(key);
    if (!fetch) {
      fetch = pool.run(() => get(secretName, version));
      // Awaited later (all of them, below); this only keeps an early failure from counting as unhandled.
      void fetch.catch(() => undefined);
      fetches.set(key, fetch);
    }
    return fetch;
  };

  let listing: ListedSecret[] | undefined;
  if (needsListing(config.rules)) {
    // The values are fetched while the listing pages in: each secret the plan will fetch starts
    // as soon as its page arrives. The plan itself still waits for the whole listing.
    const planned = fetchesLatest(config.rules, deps.now());
    try {
      const listed: ListedSecret[] = [];
      for await (const page of deps.vault.listSecretPages()) {
        listed.push(...page);
        for (const secret of page) if (planned(secret)) void fetchOnce(secret.name);
      }
      listing = listed;
    } catch (error) {
      const failure = classifyVaultError(error, config.vaultName);
      const wildcardRules = config.rules.filter((rule) => rule.kind === 'glob').map((rule) => rule.text);
      const message = describe(failure, { operation: 'list', wildcardRules });
      if (isVaultWide(failure)) {
        // Let the gets in flight end before failing; their values are dropped.
        listingFailed = true;
        await Promise.all(fetches.values());
        throw new TaskErrors([message]);
      }
      // Without List the wildcards cannot match; the exact rules may still succeed with Get.
      errors.push(message);
    }
  }

  const plan = planSecrets(
    listing ? config.rules : config.rules.filter((rule) => rule.kind === 'exact'),
    listing,
    config.naming,
    config.vaultName,
    deps.now(),
  );
  errors.push(...plan.errors);
  plan.warnings.forEach((warning) => deps.warn(warning));
  plan.notes.forEach((note) => deps.info(note));
  const outcomes: Outcome[] = [...plan.outcomes];

  const targetKey = (target: Target): string => fetchKey(target.secretName, target.version);
  const unique = [...new Map(plan.targets.map((target) => [targetKey(target), target])).values()];
  const fetched = await Promise.all(unique.map((target) => fetchOnce(target.secretName, target.version)));
  // Values fetched ahead for secrets the plan does not set (a collision) are waited for and dropped.
  await Promise.all(fetches.values());
  const results = new Map(unique.map((target, index) => [targetKey(target), fetched[index]]));

  let suggestions: Promise<readonly string[]> | undefined;
  const listedNames = (): Promise<readonly string[]> =>
    (suggestions ??= listing
      ? Promise.resolve(listing.map((secret) => secret.name))
      : listAllSecrets(deps.vault).then(
          (all) => all.map((secret) => secret.name),
          () => [],
        ));

  // A missing permission refuses every secret alike: one line for all of them, where the first was met.
  const denied = new Map<GetDenial['kind'], { denial: GetDenial; at: number; names: string[] }>();
  const set: ExportEntry[] = [];
  for (const target of plan.targets) {
    const result = results.get(targetKey(target));
    const outcome = (status: Outcome['status'], version?: string): void => {
      outcomes.push({ ...target, ...(version ? { version } : {}), status });
    };
    if (result === undefined || (isFailure(result) && isVaultWide(result))) {
      outcome('failed');
      continue;
    }
    if (isFailure(result)) {
      if (result.kind === 'secretNotFound' && target.optional && !target.version) {
        deps.info(new TaskError('SecretOptionalMissing', [target.secretName, config.vaultName]));
        outcome('skipped');
        continue;
      }
      // A wildcard match disabled since the listing is skipped, as the listing would have.
      if (result.kind === 'disabled' && !target.exact) {
        deps.warn(new TaskError('SecretDisabledSkipped', [target.secretName]));
        outcome('skipped');
        continue;
      }
      if (isGetDenial(result)) {
        const group = denied.get(result.kind);
        if (group) group.names.push(target.secretName);
        else {
          const at = errors.push(getDeniedMessage(result, [target.secretName], config.vaultName)) - 1;
          denied.set(result.kind, { denial: result, at, names: [target.secretName] });
        }
        outcome('failed');
        continue;
      }
      errors.push(
        result.kind === 'secretNotFound' && !target.version
          ? notFound(target.secretName, config.vaultName, await listedNames())
          : describe(result, { operation: 'get', secretName: target.secretName, version: target.version }),
      );
      outcome('failed');
      continue;
    }
    if (isExpired(result.expiresOn, deps.now())) {
      const args = [target.secretName, isoDate(result.expiresOn)];
      if (target.exact) errors.push(new TaskError('SecretExpired', [...args, config.vaultName]));
      else deps.warn(new TaskError('SecretExpiredSkipped', args));
      outcome(target.exact ? 'failed' : 'skipped', result.version);
      continue;
    }
    if (result.value === '' && !config.allowEmptyValues) {
      deps.warn(new TaskError('SecretEmptySkipped', [target.secretName]));
      outcome('skipped', result.version);
      continue;
    }
    if (result.value.length > 0 && result.value.length < shortSecretLength) {
      deps.warn(new TaskError('SecretTooShortToMask', [target.secretName, shortSecretLength]));
    }
    deps.setSecretVariable(target.variable, result.value);
    outcome('set', result.version);
    set.push({ variable: target.variable, value: result.value });
  }
  for (const { denial, at, names } of denied.values()) {
    errors[at] = getDeniedMessage(denial, names, config.vaultName);
  }
  if (stopWith) errors.unshift(stopWith.message);

  deps.setOutputVariable(secretNamesOutput, set.map((each) => each.variable).join(','));
  if (config.export) {
    const entries = set;
    try {
      deps.writeSecretFile(
        config.export.path,
        renderExport(config.export.format, entries, config.export.path),
      );
      // A file the agent deletes after the job is said once, plainly; one that outlives it is a warning.
      const holds = counted(entries.length, 'secret value');
      if (config.export.temporary)
        deps.info(new TaskError('ExportInTempDirectory', [config.export.path, holds]));
      else deps.warn(new TaskError('ExportHoldsSecrets', [config.export.path, holds]));
    } catch (error) {
      if (!(error instanceof TaskError)) throw error;
      errors.push(error);
    }
  }
  deps.info(new TaskError('SecretsLoaded', [counted(set.length, 'secret'), config.vaultName]));
  deps.uploadSummary(renderSummary(config.vaultName, outcomes, config.place));

  if (errors.length > 0) throw new TaskErrors(errors);
}

// Key Vault names are case-insensitive; the latest version and a pinned one are different values.
function fetchKey(secretName: string, version: string | undefined): string {
  return `${secretName.toLowerCase()}/${version ?? ''}`;
}

function isFailure(result: FetchedSecret | VaultFailure): result is VaultFailure {
  return 'kind' in result;
}
