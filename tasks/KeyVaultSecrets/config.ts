import { isAbsolute, relative, resolve } from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';
import { boolean, integer, numberedLines, oneOf, optionalString, requiredString } from '../shared/inputs';
import { quoted } from '../shared/known-secrets';
import { TaskError, TaskErrors } from '../shared/task-error';
import { exportFormats, exportPath, type ExportFormat } from './export';
import { namingModes, type Naming } from './naming';
import { parseRules } from './rules';
import type { RunConfig } from './run';

/** The task's inputs that do not need the service connection, parsed. */
export interface TaskInputs extends Omit<RunConfig, 'vaultName'> {
  /** The `keyVaultName` input as given: a vault name or a vault URL. */
  readonly keyVault: string;
}

// Variable prefixes follow the variable name rules.
const prefixPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Reads and parses the inputs once; every rule problem is reported, not only the first. */
export function readInputs(): TaskInputs {
  const keyVault = requiredString('keyVaultName', tl.loc('KeyVaultNameHint'));
  const { rules, errors } = parseRules(numberedLines('secrets'));
  if (errors.length > 0) throw new TaskErrors(errors);
  const mode = oneOf('variableNames', namingModes, 'asIs');
  const naming: Naming = { mode, prefix: mode === 'prefix' ? readPrefix() : '' };
  const allowEmptyValues = boolean('allowEmptyValues', false);
  const concurrency = integer('concurrency', 16, 1, 64);
  const file = optionalString('exportFile');
  const format = oneOf('exportFormat', exportFormats, 'dotenv');
  const tempDirectory = tl.getVariable('Agent.TempDirectory') || process.cwd();
  const workingDirectory = tl.getVariable('System.DefaultWorkingDirectory') || process.cwd();
  return {
    keyVault,
    rules,
    naming,
    allowEmptyValues,
    concurrency,
    ...(file
      ? { export: exportTarget(exportPath(file, tempDirectory, workingDirectory), format, tempDirectory) }
      : {}),
  };
}

// A file under Agent.TempDirectory is deleted with it after the job.
function exportTarget(
  path: string,
  format: ExportFormat,
  tempDirectory: string,
): NonNullable<RunConfig['export']> {
  const inside = relative(resolve(tempDirectory), resolve(path));
  return { path, format, temporary: inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) };
}

function readPrefix(): string {
  const prefix = optionalString('variablePrefix');
  if (prefix === undefined) throw new TaskError('VariablePrefixRequired');
  if (!prefixPattern.test(prefix)) throw new TaskError('VariablePrefixInvalid', [quoted(prefix)]);
  return prefix;
}
