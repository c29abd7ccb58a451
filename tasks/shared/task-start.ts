/**
 * The first code of every task bundle: scripts/build.mjs injects this module, so it runs
 * before the task's entry file and before task-lib.
 *
 * task-lib does work as it loads: it moves the agent's secrets from the environment into
 * its vault and writes the vault's key (.taskkey) into Agent.TempDirectory. When that
 * folder cannot be written, the throw comes from task-lib's module body, before any task
 * code runs; task-lib's own uncaughtException handler then prints the stack trace as an
 * error and the process exits 0 with a Failed result. Loading task-lib here, inside a
 * try, turns that into one line that names the folder, and exit code 1.
 */
import { writeSync } from 'node:fs';
import { EOL } from 'node:os';
import { TaskCommand } from 'azure-pipelines-task-lib/taskcommand';
import { rememberAgentSecrets, quotedFirstLine } from './known-secrets';
import sharedMessages from './messages.json';
import { renderMessage } from './messages';

// Where task-lib keeps its vault key (internal.js _loadData): Agent.TempDirectory, else
// Agent.WorkFolder, else the working directory.
function vaultKeyFolder(env: NodeJS.ProcessEnv): { path: string; variable: string } {
  if (env.AGENT_TEMPDIRECTORY) return { path: env.AGENT_TEMPDIRECTORY, variable: 'Agent.TempDirectory' };
  if (env.AGENT_WORKFOLDER) return { path: env.AGENT_WORKFOLDER, variable: 'Agent.WorkFolder' };
  return { path: process.cwd(), variable: 'the working directory' };
}

// Plain words for the errors a folder that cannot be written gives.
const folderProblems: Readonly<Record<string, string>> = {
  ENOTDIR: 'it is a file, not a folder',
  ENOENT: 'it does not exist',
  EACCES: 'the agent user may not write there',
  EPERM: 'the agent user may not write there',
  EROFS: 'it is on a read-only file system',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
};

// task-lib is half loaded and cannot be used: the commands are written directly, and the
// process ends before the task's own code starts.
function failToStart(error: unknown, keyFolder: { path: string; variable: string }): never {
  const failure = error as NodeJS.ErrnoException;
  const message =
    typeof failure?.path === 'string' && failure.path.endsWith('.taskkey')
      ? renderMessage(sharedMessages, 'AgentTempDirectoryUnwritable', [
          keyFolder.path,
          keyFolder.variable,
          folderProblems[failure.code ?? ''] ?? `the system refused it (${failure.code ?? 'no code'})`,
        ])
      : renderMessage(sharedMessages, 'UnexpectedFailure', [
          quotedFirstLine(failure instanceof Error ? failure.message : String(error), 300),
        ]);
  const issue = new TaskCommand('task.issue', { type: 'error', source: 'TaskInternal' }, message);
  const complete = new TaskCommand('task.complete', { result: 'Failed' }, message);
  // Synchronous writes: the process exits right after, and stdout may be an asynchronous pipe.
  writeSync(process.stdout.fd, `${issue.toString()}${EOL}${complete.toString()}${EOL}`);
  process.exit(1);
}

// Last in the file: everything above is defined by the time this runs.
rememberAgentSecrets(process.env);
const keyFolder = vaultKeyFolder(process.env);
try {
  // A require, not an import: imports are hoisted out of the try, and this one must fail inside it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('azure-pipelines-task-lib/task');
} catch (error) {
  failToStart(error, keyFolder);
}
