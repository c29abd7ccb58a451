import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { EOL } from 'node:os';
import { basename, dirname } from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';
import { readNetworkSettings } from '../shared/agent-environment';
import { readAzureRmConnection } from '../shared/azure-connection';
import { createCredential, signInError } from '../shared/azure-credential';
import { boolean } from '../shared/inputs';
import { quoted } from '../shared/known-secrets';
import { defaultRetryPolicy } from '../shared/network';
import { readStepPlace, uploadSummary } from '../shared/summary-file';
import { TaskError } from '../shared/task-error';
import { localise, runTask } from '../shared/task-shell';
import { readInputs } from './config';
import { checkExportTarget } from './export-target';
import { run } from './run';
import { summaryTitle } from './summary';
import { setSecretVariable } from './variables';
import { createVaultClient } from './vault';
import { resolveVaultAddress } from './vault-url';

// The build writes prejob.js as `require('./index.js')`, so the pre-job phase is the one
// whose main module is prejob.js. The agent runs both phases when prejobexecution is
// declared; runAsPreJob decides which of the two does the work.
const preJobPhase = basename(require.main?.filename ?? '') === 'prejob.js';

void runTask(async () => {
  const runAsPreJob = boolean('runAsPreJob', false);
  if (preJobPhase !== runAsPreJob) {
    if (!preJobPhase) say(new TaskError('RanAsPreJob'));
    tl.setResult(tl.TaskResult.Succeeded, '');
    return;
  }

  const inputs = readInputs();
  if (inputs.export) checkExportTarget(inputs.export.path);
  const connection = readAzureRmConnection('azureSubscription');
  const vault = resolveVaultAddress(inputs.keyVault, connection.cloud);
  const network = readNetworkSettings();

  await run(
    { ...inputs, vaultName: vault.name, place: readStepPlace() },
    {
      vault: createVaultClient(vault.url, createCredential(connection, network), network, defaultRetryPolicy),
      setSecretVariable,
      setOutputVariable: (name, value) => tl.setVariable(name, value, false, true),
      warn: (warning) => tl.warning(localise(warning), tl.IssueSource.TaskInternal),
      info: say,
      writeSecretFile,
      uploadSummary: (markdown) => uploadSummary(summaryTitle(vault.name), markdown),
      describeSignInFailure: (cause) => signInError(cause, connection),
      now: () => new Date(),
    },
  );
  tl.setResult(tl.TaskResult.Succeeded, '');
});

// The agent shows stdout lines as the step's log; task-lib has no plain "info" command.
function say(message: TaskError): void {
  process.stdout.write(localise(message) + EOL);
}

// Mode 0600 from creation on, and again afterwards in case the file existed with looser bits.
function writeSecretFile(path: string, content: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, content, { mode: 0o600 });
    chmodSync(path, 0o600);
  } catch (error) {
    throw new TaskError(
      'ExportFailed',
      [quoted(path), (error as NodeJS.ErrnoException).code ?? 'no error code'],
      error,
    );
  }
}
