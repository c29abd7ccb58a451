// `npm run pipeline -- <file.yml> [options]`: runs a pipeline file of this repository (or a
// team's own) on this machine the way Azure Pipelines runs it. Without --resources it runs
// against the emulated Azure on loopback, which it starts and stops itself.
import '../test/support/loopback-dns.cjs';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ApprovalSource } from './builtin/types';
import { buildAndUnpack, repoRoot } from './extension-package';
import { PipelineError } from './model';
import { runPipelineFile } from './pipeline';
import { nobodyAnswers, presetApprovals, terminalApprovals } from './run/approvals';
import { terminalLog } from './run/log';
import { readResources, ResourcesError, type RunnerResources } from './run/resources';
import { writeRunReport } from './run/report';

const usage = `Usage: npm run pipeline -- <pipeline.yml> [options]

Runs a pipeline file on this machine as Azure Pipelines runs it: compile time (templates,
parameters, expressions), then stages, jobs and steps, with this extension's packaged tasks
and local stand-ins for Microsoft's built-in tasks.

  --param name=value       a runtime parameter of the pipeline (repeatable)
  --variable name=value    a queue-time variable (repeatable)
  --resources <file>       service connections, environments, repositories, pipeline runs
                           (see the README); without it, the emulated Azure on loopback
  --name <name>            the pipeline's name, as other pipelines' resources call it
                           (default: the file's name)
  --branch <ref>           Build.SourceBranch (default refs/heads/main)
  --triggered-by <alias>=<run folder>
                           the pipeline resource run that triggers this run
  --approve                approve every manual validation at once
  --reject                 reject every manual validation at once
  --comment <text>         the comment of --approve or --reject
                           (neither: ask in the terminal, or without one wait for the timeout)
  --time-scale <factor>    real time per pipeline time for agentless waits (default 1)
  --runs <folder>          where runs are kept (default dist/pipeline-runs)
  --tasks <folder>         this extension's unpacked tasks (default: build and unpack the vsix)
  --check                  compile and check only; run nothing
  -h, --help               this text`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        param: { type: 'string', multiple: true },
        variable: { type: 'string', multiple: true },
        resources: { type: 'string' },
        name: { type: 'string' },
        branch: { type: 'string' },
        'triggered-by': { type: 'string' },
        approve: { type: 'boolean' },
        reject: { type: 'boolean' },
        comment: { type: 'string' },
        'time-scale': { type: 'string' },
        runs: { type: 'string' },
        tasks: { type: 'string' },
        check: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1) return usageError('Give exactly one pipeline file.');
  const file = resolve(positionals[0]!);
  if (!existsSync(file)) return usageError(`The pipeline file ${positionals[0]} does not exist.`);
  if (values.approve && values.reject) return usageError('Give --approve or --reject, not both.');
  let parameters: Record<string, string>;
  let variables: Record<string, string>;
  try {
    parameters = pairs(values.param ?? [], '--param');
    variables = pairs(values.variable ?? [], '--variable');
  } catch (error) {
    return usageError((error as Error).message);
  }
  const timeScale = values['time-scale'] === undefined ? 1 : Number(values['time-scale']);
  if (!(timeScale > 0))
    return usageError(`--time-scale takes a positive number, not '${values['time-scale']}'.`);
  let triggeredBy: { alias: string; runFolder: string } | undefined;
  if (values['triggered-by']) {
    const [alias, folder] = values['triggered-by'].split('=', 2);
    if (!alias || !folder) return usageError('--triggered-by takes <alias>=<run folder>.');
    triggeredBy = { alias, runFolder: resolve(folder) };
  }

  const controller = new AbortController();
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\nCanceling the run (Ctrl-C again to stop at once)...\n');
    controller.abort();
  });

  let stopWorld: (() => Promise<void>) | undefined;
  try {
    let resources: RunnerResources;
    if (values.resources) {
      resources = readResources(values.resources);
    } else {
      const { startEmulatedWorld } = await import('../demo/world');
      const world = await startEmulatedWorld({});
      stopWorld = () => world.stop();
      resources = world.resources;
      console.log(`No --resources: running against the emulated Azure on loopback (${world.description}).`);
    }
    const tasksFolder = values.tasks
      ? resolve(values.tasks)
      : (await buildAndUnpack(join(repoRoot, 'dist', 'pipeline-runner'))).tasksDir;
    const approvals: ApprovalSource = values.approve
      ? presetApprovals('approved', values.comment)
      : values.reject
        ? presetApprovals('rejected', values.comment)
        : process.stdin.isTTY
          ? terminalApprovals(process.stdin, process.stdout, process.env.USER ?? 'you')
          : nobodyAnswers;
    const log = terminalLog();
    if (values.check) {
      const { preparePipeline, taskCatalog } = await import('./pipeline');
      preparePipeline(
        { file, parameters, variables, resources, ...(triggeredBy ? { triggeredBy } : {}) },
        taskCatalog(tasksFolder),
      );
      console.log(`${relative(process.cwd(), file)}: compiled and checked; nothing run (--check).`);
      return 0;
    }
    const { record, folder } = await runPipelineFile({
      file,
      ...(values.name ? { name: values.name } : {}),
      parameters,
      variables,
      resources,
      tasksFolder,
      runsRoot: resolve(values.runs ?? join(repoRoot, 'dist', 'pipeline-runs')),
      approvals,
      timeScale,
      log,
      signal: controller.signal,
      ...(triggeredBy ? { triggeredBy } : {}),
      ...(values.branch ? { sourceBranch: values.branch } : {}),
    });
    const report = writeRunReport(folder, record);
    console.log(
      `Run folder: ${relative(process.cwd(), folder)} (report: ${relative(process.cwd(), report)})`,
    );
    if (record.result === 'Canceled') return 130;
    return record.result === 'Succeeded' || record.result === 'SucceededWithIssues' ? 0 : 1;
  } catch (error) {
    if (error instanceof PipelineError) {
      for (const line of error.message.split('\n')) console.error(line);
      return 1;
    }
    if (error instanceof ResourcesError) {
      console.error(error.message);
      return 2;
    }
    console.error(`pipeline: ${(error as Error).message}`);
    return 1;
  } finally {
    await stopWorld?.();
  }
}

function usageError(message: string): number {
  console.error(`pipeline: ${message}\n\n${usage}`);
  return 2;
}

/** `name=value` arguments as a mapping; a later one wins. */
function pairs(items: readonly string[], option: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const item of items) {
    const equals = item.indexOf('=');
    if (equals <= 0) throw new Error(`${option} takes name=value, not '${item}'.`);
    result[item.slice(0, equals)] = item.slice(equals + 1);
  }
  return result;
}

void main().then((code) => {
  // Keep-alive sockets of the emulated Azure must not keep the process alive.
  process.stdout.write('', () => process.exit(code));
});
