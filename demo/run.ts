// `npm run demo`: the three example pipelines (templates/examples/) for the sample app
// (sample-app/), PR → CI → CD, through the local pipeline runner, with the packaged tasks,
// on the emulated Azure. Loopback name resolution and the loopback-only guard load first,
// so nothing this process opens can leave the machine.
import '../test/support/loopback-dns.cjs';
import './loopback-only.cjs';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildAndUnpack, repoRoot } from '../runner/extension-package';
import { runPipelineFile } from '../runner/pipeline';
import { presetApprovals } from '../runner/run/approvals';
import { terminalLog } from '../runner/run/log';
import type { RunRecord } from '../runner/run/record';
import { writeRunReport } from '../runner/run/report';
import { parseDemoOptions, usage, type Breakage, type DemoOptions } from './options';
import { interruption, signalDescendants, stopEverythingOnSignal } from './processes';
import { readBack, type DemoRun, type ReadBack } from './read-back';
import { demoSummary, writeDemoReport } from './report';
import { sampleAppFolder, startEmulatedWorld, type EmulatedWorld } from './world';
import { deployPreviousRelease } from './previous-release';
import { outOfMemoryOnceLive } from './production';
import { crashOnStaging, logErrorsOnStaging } from './staging';

const examples = join(repoRoot, 'templates', 'examples');
const say = (line = '') => process.stdout.write(`${line}\n`);
// Paths under the current folder read best relative; others (a temporary --out-dir) absolute.
const shown = (path: string) => {
  const near = relative(process.cwd(), path);
  return near.startsWith('..') ? path : near || '.';
};

async function main(): Promise<number> {
  const startedAt = Date.now();
  let options: DemoOptions;
  try {
    options = parseDemoOptions(process.argv.slice(2), repoRoot);
  } catch (error) {
    console.error(`demo: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (options.help) {
    say(usage);
    return 0;
  }
  const missing = ['docker-registry', 'skopeo', 'buildah'].filter((tool) => !onPath(tool));
  if (missing.length > 0) {
    console.error(`demo: ${missing.join(', ')} must be installed: run sudo scripts/install-system-deps.sh.`);
    return 2;
  }

  let world: EmulatedWorld | undefined;
  const stop = async () => {
    await world?.stop();
    world = undefined;
  };
  stopEverythingOnSignal(stop, (line) => process.stderr.write(`${line}\n`));
  try {
    say('AKS Release Flow demo: PR → CI → CD for the sample app, run by the local pipeline runner');
    if (options.breakage) say(`Breaking on purpose: --break ${options.breakage}`);
    const extension = await buildAndUnpack(options.outDir);
    say(`Built ${shown(extension.vsix)} and unpacked its tasks.`);
    const runsRoot = join(options.outDir, 'runs');
    rmSync(runsRoot, { recursive: true, force: true });
    const selfRepository = options.breakage === 'pr' ? pullRequestWithABug() : sampleAppFolder;
    world = await startEmulatedWorld({
      runsRoot,
      selfRepository,
      ...(options.breakage === 'staging' || options.breakage === 'acceptance'
        ? { breakage: options.breakage }
        : {}),
    });
    say(`Started the emulated Azure on loopback: ${world.description}.`);

    const log = terminalLog();
    const runs: DemoRun[] = [];
    const run = async (
      title: string,
      file: string,
      name: string,
      extra: Partial<Parameters<typeof runPipelineFile>[0]> = {},
    ): Promise<RunRecord> => {
      say('');
      say(`════ ${title} ${'═'.repeat(Math.max(4, 70 - title.length))}`);
      const { record, folder } = await runPipelineFile({
        file: join(examples, file),
        name,
        resources: world!.resources,
        tasksFolder: extension.tasksDir,
        runsRoot,
        // The demo answers the manual validation itself; `npm run pipeline` asks in the terminal.
        approvals: presetApprovals('approved', 'approved by the demo, which looked at staging'),
        timeScale: 0.001,
        log,
        ...extra,
      });
      runs.push({ title, record, folder, report: writeRunReport(folder, record) });
      return record;
    };

    const pr = await run('PR: azure-pipelines-pr.yml', 'azure-pipelines-pr.yml', 'orders-api-pr', {
      sourceBranch: 'refs/pull/1/merge',
    });
    if (interruption()) return 130;
    let stopWatching: (() => void) | undefined;
    let ci: RunRecord | undefined;
    let cd: RunRecord | undefined;
    if (succeeded(pr)) {
      ci = await run('CI: azure-pipelines-ci.yml', 'azure-pipelines-ci.yml', 'orders-api-ci', {
        parameters: world.parameters.ci,
      });
    }
    if (interruption()) return 130;
    if (ci && succeeded(ci)) {
      const ciFolder = runs.at(-1)!.folder;
      const digest = readFileSync(join(ciFolder, 'artifacts', 'image', 'digest'), 'utf8').trim();
      await world.serveRelease('orders/api', digest);
      say('');
      say(`Staging's URL now serves the files of the image CI pushed (orders/api@${digest.slice(0, 19)}…).`);
      if (options.breakage === 'staging') {
        say('');
        await deployPreviousRelease(world, 'staging', extension.tasksDir, previousReleaseFolder());
        crashOnStaging(world, ciFolder);
        say('Staging runs the previous release; the new one will crash there on start.');
      }
      if (options.breakage === 'health') {
        say('');
        logErrorsOnStaging(world, ciFolder);
        say("The new release will answer staging's checks well, but its pods will log errors.");
      }
      if (options.breakage === 'production') {
        say('');
        const previous = await deployPreviousRelease(
          world,
          'production',
          extension.tasksDir,
          previousReleaseFolder(),
        );
        stopWatching = outOfMemoryOnceLive(
          world,
          `${world.registries.prod.loginServer}/orders/api@${digest}`,
        );
        say(
          `Production runs the previous release (${previous.replace(/^.*@/, '').slice(0, 19)}…); the new one will run out of memory there once it is live.`,
        );
      }
      // CI's completion triggers CD through CD's pipeline resource `ci`.
      cd = await run(
        'CD: azure-pipelines-cd.yml (triggered by CI)',
        'azure-pipelines-cd.yml',
        'orders-api-cd',
        {
          parameters: world.parameters.cd,
          triggeredBy: { alias: 'ci', runFolder: ciFolder },
        },
      );
    }
    stopWatching?.();
    if (interruption()) return 130;

    const facts: ReadBack = readBack(world, runs);
    await stop();
    const outcome = outcomeOf(options.breakage, pr, ci, cd, facts);
    const files = writeDemoReport(options.outDir, {
      breakage: options.breakage,
      outcome,
      runs,
      facts,
      vsix: shown(extension.vsix),
      totalMs: Date.now() - startedAt,
    });
    say('');
    for (const line of demoSummary({
      outcome,
      runs,
      facts,
      totalMs: Date.now() - startedAt,
      report: shown(files.html),
    }))
      say(line);
    return outcome.exitCode;
  } finally {
    await stop();
    // Anything still running is a bug in a stopper; it must not outlive the demo.
    const leftovers = signalDescendants('SIGKILL');
    if (leftovers > 0) console.error(`demo: killed ${leftovers} process(es) left running.`);
  }
}

function succeeded(record: RunRecord): boolean {
  return record.result === 'Succeeded' || record.result === 'SucceededWithIssues';
}

/** How the demo ended: a pipeline's failure is the demo's, as a pipeline would report it. */
export function outcomeOf(
  breakage: Breakage | undefined,
  pr: RunRecord,
  ci: RunRecord | undefined,
  cd: RunRecord | undefined,
  facts: ReadBack,
): { status: 'Succeeded' | 'Failed'; exitCode: number; headline: string } {
  const failed = [pr, ci, cd].find((record) => record && !succeeded(record));
  if (failed) {
    const stage = failed.stages.find((each) => each.result === 'Failed' || each.result === 'Canceled');
    return {
      status: 'Failed',
      exitCode: 1,
      headline: `${failed.pipeline} failed${stage ? ` in ${stage.displayName}` : ''}${breakage ? ` (--break ${breakage})` : ''}`,
    };
  }
  if (!facts.production.identical) {
    return { status: 'Failed', exitCode: 1, headline: 'Production does not run the digest CI pushed' };
  }
  return {
    status: 'Succeeded',
    exitCode: 0,
    headline: 'PR, CI and CD passed; production runs the digest CI built',
  };
}

/** A copy of the sample app with a bug a unit test catches: the pull request the PR pipeline refuses. */
function pullRequestWithABug(): string {
  const copy = mkdtempSync(join(tmpdir(), 'orders-api-pr-'));
  cpSync(sampleAppFolder, copy, {
    recursive: true,
    filter: (source) => !/\/(node_modules|dist|coverage|test-results)(\/|$)/.test(source),
  });
  const app = join(copy, 'src', 'app.mjs');
  execFileSync('sed', ['-i', "s/failChecks ? 'degraded' : 'ok'/failChecks ? 'degraded' : 'OK'/", app]);
  process.once('exit', () => rmSync(copy, { recursive: true, force: true }));
  return copy;
}

/**
 * A folder for the previous release's pipeline, outside any git work tree: checkout copies
 * what git would commit, and under the repository's dist/ (git-ignored) that is nothing.
 */
function previousReleaseFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'orders-api-previous-release-'));
  process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, name)));
}

main()
  .catch((error: Error) => {
    console.error(`demo: ${error.message}`);
    return 1;
  })
  .then((code) => {
    // After a signal its handler stops everything and exits with 128 + the signal number.
    if (interruption()) return;
    // Keep-alive sockets and timers of the emulators must not keep the demo alive.
    process.stdout.write('', () => process.exit(code));
  });
