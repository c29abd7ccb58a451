// `npm run demo`: the CD flow end to end on one machine, with the packaged tasks on the
// emulated Azure. Loopback name resolution and the loopback-only guard load first, so
// nothing this process opens can leave the machine.
import '../test/support/loopback-dns.cjs';
import './loopback-only.cjs';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { clusterSupport, startClusters } from './clusters';
import { startDemoEnvironment } from './environment';
import { deployPreviousRelease, runCdFlow } from './flow';
import { createPipelineLog } from './log';
import { buildAndUnpack, repoRoot } from '../runner/extension-package';
import { outcomeOf, type RunOutcome } from './pipeline';
import { interruption, signalDescendants, stopEverythingOnSignal } from './processes';
import { registryBinary } from '../test/emulators/registry';
import { compareRegistries } from './registries';
import { summaryLines, writeReport, type Phase } from './report';
import { buildSampleImage, pushToNonProduction } from './sample-image';
import { parseDemoOptions, usage, type DemoOptions } from './options';

const log = createPipelineLog();
// Paths under the current folder read best relative; others (a temporary --out-dir) absolute.
const shown = (path: string) => {
  const near = relative(process.cwd(), path);
  return near.startsWith('..') ? path : near || '.';
};

async function main(): Promise<number> {
  const startedAt = new Date();
  let options: DemoOptions;
  try {
    options = parseDemoOptions(process.argv.slice(2), repoRoot);
  } catch (error) {
    console.error(`demo: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (options.help) {
    log.say(usage);
    return 0;
  }
  if (!process.versions.node.startsWith('20.')) {
    console.error(`demo: the agent harness runs the tasks on Node 20, but this is Node ${process.version}.`);
    return 2;
  }

  const missing = missingSystemTools();
  if (missing.length > 0) {
    console.error(
      `demo: ${missing.join(' and ')} must be installed: run sudo scripts/install-system-deps.sh (Debian or Ubuntu).`,
    );
    return 2;
  }

  let stopEnvironment: (() => Promise<void>) | undefined;
  stopEverythingOnSignal(
    async () => stopEnvironment?.(),
    (line) => process.stderr.write(`${line}\n`),
  );
  const phases: Phase[] = [];
  const timed = async <T>(title: string, work: () => Promise<T> | T): Promise<T> => {
    const started = Date.now();
    const result = await work();
    phases.push({ title, durationMs: Date.now() - started });
    return result;
  };

  log.say(log.paint('bold', 'AKS Release Flow demo: the CD flow on the emulated Azure, loopback only'));
  if (options.breakage) log.say(`Breaking on purpose: --break ${options.breakage}`);
  log.say('');
  try {
    const extension = await timed('package', () => buildAndUnpack(options.outDir));
    log.phase(`Built and unpacked ${shown(extension.vsix)}`, phases.at(-1)!.durationMs, [
      `tasks: ${[...extension.tasks.keys()].join(', ')} → ${shown(extension.tasksDir)}`,
    ]);
    const clusters = clusterSupport(extension.tasks.has('AksDeploy'));
    if (options.breakage === 'staging' && !clusters.available) {
      console.error(`demo: --break staging needs the AksDeploy steps. ${clusters.reason}`);
      return 2;
    }

    const environment = await timed('emulated Azure', () =>
      startDemoEnvironment({ breakage: options.breakage, onStarted: (stop) => (stopEnvironment = stop) }),
    );
    const { world, staging } = environment;
    const cluster = clusters.available ? startClusters(world.cloud.azure) : undefined;
    if (cluster) {
      const stopAzure = stopEnvironment;
      stopEnvironment = async () => {
        cluster.stop();
        await stopAzure?.();
      };
    }
    log.phase('Started the emulated Azure on loopback', phases.at(-1)!.durationMs, [
      `Entra ID, Azure DevOps OIDC and IMDS · Key Vault sample-app-kv · Log Analytics · ARM`,
      `ACR ${world.nonprod.loginServer} and ${world.prod.loginServer} over two docker-registry processes`,
      `staging app ${staging.url}${options.breakage === 'acceptance' ? ' (told to fail)' : ''}`,
      clusters.available
        ? 'AKS clusters aks-sample-staging and aks-sample-production'
        : `no AKS: ${clusters.reason}`,
    ]);

    const image = buildSampleImage();
    await timed('image', () => pushToNonProduction(world, image));
    log.phase(
      `CI pushed ${image.repository}:${image.tag} to ${world.nonprod.loginServer}`,
      phases.at(-1)!.durationMs,
      [
        `index ${image.index.digest}`,
        ...image.index.children.map(
          (child) => `  ${child.platform?.os}/${child.platform?.architecture} ${child.digest}`,
        ),
        `SBOM  ${image.sbom.digest} (subject: the index)`,
      ],
    );

    if (cluster) {
      const previous = buildSampleImage('0.9.0');
      await timed('previous release', async () => {
        await pushToNonProduction(world, previous);
        await deployPreviousRelease(
          {
            env: environment,
            tasks: extension.tasks,
            image,
            clusters,
            cluster,
            log,
            pipelineStartedAt: new Date(),
          },
          previous,
        );
      });
      log.phase(
        `Staging runs the previous release ${previous.repository}:${previous.tag}, deployed with the packaged AksDeploy@1`,
        phases.at(-1)!.durationMs,
      );
    }

    const pipelineStartedAt = new Date();
    const steps = await timed('pipeline', () =>
      runCdFlow({
        env: environment,
        tasks: extension.tasks,
        image,
        clusters,
        cluster,
        log,
        pipelineStartedAt,
        breakage: options.breakage,
      }),
    );
    if (interruption()) return 130;
    const registries = compareRegistries(world, image);
    let outcome: RunOutcome = outcomeOf(steps);
    const promoted = steps.some((step) => step.task === 'AcrPromoteImage@1' && step.status === 'Succeeded');
    if (promoted && !registries.identical) {
      outcome = {
        status: 'Failed',
        exitCode: 1,
        headline: 'Production does not hold the digest staging tested',
      };
    }

    await timed('stop', async () => {
      await stopEnvironment?.();
      stopEnvironment = undefined;
    });
    const report = {
      startedAt,
      totalMs: Date.now() - startedAt.getTime(),
      breakage: options.breakage,
      outcome,
      phases,
      steps,
      image: {
        repository: image.repository,
        tag: image.tag,
        reference: `${image.repository}:${image.tag}`,
        digest: image.index.digest,
        platforms: image.index.children.map((child) =>
          [child.platform?.os, child.platform?.architecture, child.platform?.variant]
            .filter(Boolean)
            .join('/'),
        ),
        sbomDigest: image.sbom.digest,
      },
      registries,
      vsix: shown(extension.vsix),
    };
    const files = writeReport(options.outDir, report);
    for (const line of summaryLines(report, { ...files, html: shown(files.html) })) log.say(line);
    return outcome.exitCode;
  } finally {
    await stopEnvironment?.();
    // Anything still running is a bug in a stopper; it must not outlive the demo.
    const leftovers = signalDescendants('SIGKILL');
    if (leftovers > 0) console.error(`demo: killed ${leftovers} process(es) left running.`);
  }
}

/** The system tools the emulated registries need, which npm ci does not bring. */
function missingSystemTools(): string[] {
  const tools = [registryBinary, 'skopeo'];
  const onPath = (name: string) =>
    name.startsWith('/')
      ? existsSync(name)
      : (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, name)));
  return tools.filter((tool) => !onPath(tool)).map((tool) => tool.split('/').pop()!);
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
