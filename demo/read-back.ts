/**
 * What reached each place, read from the places themselves and not from what the tasks
 * said they did: the registries (with skopeo, straight at the registry processes), the
 * clusters' pods and the Deployments their overlays made (from their stores), the
 * integration tests' own record of the secret they saw, and, from CD's timeline, the gates'
 * verdicts, Verify's redeploy and the manual validation's answer.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../runner/run/record';
import { appNamespace, type EmulatedWorld } from './world';

/** One finished pipeline run of the demo. */
export interface DemoRun {
  readonly title: string;
  readonly record: RunRecord;
  readonly folder: string;
  /** The run's report.html. */
  readonly report: string;
}

/** A pod as its cluster holds it. */
export interface PodImage {
  readonly pod: string;
  readonly image: string;
  /** The digest the kubelet pulled (status.containerStatuses[].imageID), if it started. */
  readonly imageID?: string;
}

/** The app's Deployment as a cluster holds it: what its environment's overlay made of it. */
export interface DeploymentFacts {
  readonly replicas: number;
  /** The ConfigMap its container reads (the generated name, with Kustomize's content hash). */
  readonly configMap?: string;
  /** That ConfigMap's ENVIRONMENT, as the overlay set it. */
  readonly environment?: string;
}

/** A health metric that failed a gate, as the gate named it. */
export interface FailedMetric {
  readonly name: string;
  /** How the gate words it, e.g. `error log lines`. */
  readonly label: string;
  readonly value: string;
  readonly threshold: string;
}

/** What an AcceptanceGate@1 step of CD decided: its result, its output variables, the metrics that failed it. */
export interface GateFacts {
  readonly result: string;
  readonly verdict?: string;
  readonly score?: string;
  readonly failedMetrics: readonly FailedMetric[];
}

/** Everything the demo checks after the runs. */
export interface ReadBack {
  /** What CI pushed: its artifact `image`, and the tag (CI's run id). */
  readonly image?: { readonly repository: string; readonly tag: string; readonly digest: string };
  readonly registries: {
    readonly nonprod: { readonly loginServer: string; readonly digest?: string };
    readonly prod: { readonly loginServer: string; readonly digest?: string };
  };
  readonly pods: { readonly staging: readonly PodImage[]; readonly production: readonly PodImage[] };
  /** The Deployment of each cluster, when there is one. */
  readonly deployments: { readonly staging?: DeploymentFacts; readonly production?: DeploymentFacts };
  readonly production: {
    /** Production's pods run CI's digest from the production registry, and both registries hold it. */
    readonly identical: boolean;
    /**
     * What production ran before CD deployed (AksDeploy@1's previousImages), when it ran
     * something, and whether every pod of production runs that image now.
     */
    readonly previous?: { readonly image: string; readonly runsNow: boolean };
  };
  /** The acceptance gate on staging and Verify's gate on production, when CD got there. */
  readonly gates: { readonly acceptance?: GateFacts; readonly verify?: GateFacts };
  /** Verify's redeploy of what production ran before, when its condition let it run. */
  readonly rollback?: { readonly result: string };
  /**
   * Both clusters' pods run the digest CI pushed, each pulled from its own environment's
   * registry, so that the overlays changed the objects but not what runs.
   */
  readonly sameDigest: boolean;
  /** Whether CI's integration tests recorded the hash of the Key Vault secret, reached through env:. */
  readonly integrationSecretSeen: boolean;
  /** The manual validation's step result and its answer line, when CD got there. */
  readonly validation?: { readonly result: string; readonly answer?: string };
}

/** Reads what reached each place. */
export function readBack(world: EmulatedWorld, runs: readonly DemoRun[]): ReadBack {
  const ci = runs.find((run) => run.record.pipeline === 'orders-api-ci');
  const cd = runs.find((run) => run.record.pipeline === 'orders-api-cd');
  const digestFile = ci && join(ci.folder, 'artifacts', 'image', 'digest');
  const image =
    ci && digestFile && existsSync(digestFile)
      ? {
          repository: 'orders/api',
          tag: String(ci.record.runId),
          digest: readFileSync(digestFile, 'utf8').trim(),
        }
      : undefined;
  const stored = (registry: EmulatedWorld['registries']['nonprod']) => ({
    loginServer: registry.loginServer,
    ...(image ? { digest: world.promote.storedDigest(registry, image.repository, image.tag) } : {}),
  });
  const registries = { nonprod: stored(world.registries.nonprod), prod: stored(world.registries.prod) };
  const pods = {
    staging: podImages(world.clusters.staging),
    production: podImages(world.clusters.production),
  };
  const identical =
    image !== undefined &&
    registries.nonprod.digest === image.digest &&
    registries.prod.digest === image.digest &&
    pods.production.length > 0 &&
    pods.production.every(
      (pod) =>
        pod.image === `${world.registries.prod.loginServer}/${image.repository}@${image.digest}` &&
        pod.imageID?.endsWith(image.digest) === true,
    );
  const pinnedIn = (list: readonly PodImage[], loginServer: string) =>
    image !== undefined &&
    list.length > 0 &&
    list.every(
      (pod) =>
        pod.image === `${loginServer}/${image.repository}@${image.digest}` &&
        pod.imageID?.endsWith(image.digest) === true,
    );
  const sameDigest =
    pinnedIn(pods.staging, world.registries.nonprod.loginServer) &&
    pinnedIn(pods.production, world.registries.prod.loginServer);
  const deployments = {
    ...optional('staging', deploymentFacts(world.clusters.staging)),
    ...optional('production', deploymentFacts(world.clusters.production)),
  };
  const jobOf = (stage: string, job: string) =>
    cd?.record.stages.find((each) => each.name === stage)?.jobs.find((each) => each.name === job);
  // AksDeploy@1's previousImages: `orders/api => <reference>` per line.
  const previousImage = jobOf('Production', 'deploy_production')
    ?.outputs['Deploy_orders.deploy.previousImages']?.split('\n')[0]
    ?.split('=>')[1]
    ?.trim();
  const rollbackJob = jobOf('Verify', 'rollback_production');
  const gates = {
    ...optional('acceptance', gateFacts(jobOf('Acceptance', 'acceptance'))),
    ...optional('verify', gateFacts(jobOf('Verify', 'verify'))),
  };
  const validationStep = cd?.record.stages
    .flatMap((stage) => stage.jobs)
    .flatMap((job) => job.steps)
    .find((step) => step.task === 'ManualValidation@1');
  return {
    ...(image ? { image } : {}),
    registries,
    pods,
    deployments,
    production: {
      identical,
      ...(previousImage
        ? {
            previous: {
              image: previousImage,
              runsNow:
                pods.production.length > 0 &&
                pods.production.every(
                  (pod) =>
                    pod.image === previousImage &&
                    pod.imageID?.endsWith(previousImage.replace(/^.*@/, '')) === true,
                ),
            },
          }
        : {}),
    },
    gates,
    ...(rollbackJob && rollbackJob.result !== 'Skipped' ? { rollback: { result: rollbackJob.result } } : {}),
    sameDigest,
    integrationSecretSeen: ci ? secretSeen(ci.folder, world.integrationSecret) : false,
    ...(validationStep
      ? {
          validation: {
            result: validationStep.result,
            ...(answerLine(validationStep.logLines) ? { answer: answerLine(validationStep.logLines)! } : {}),
          },
        }
      : {}),
  };
}

/** The gate step of a job: its result, its outputs, and the metrics its failure message names. */
function gateFacts(
  job: DemoRun['record']['stages'][number]['jobs'][number] | undefined,
): GateFacts | undefined {
  const step = job?.steps.find((each) => each.task === 'AcceptanceGate@1');
  if (!job || !step || step.result === 'Skipped') return undefined;
  const failedMetrics = [
    ...`${step.message}\n${step.logLines.join('\n')}`.matchAll(
      /Health in Azure Monitor: (.+?) \((\w+)\) is (.+?), which fails its threshold \(([^)]*)\)/g,
    ),
  ].map(([, label, name, value, threshold]) => ({
    name: name!,
    label: label!,
    value: value!,
    threshold: threshold!,
  }));
  const unique = failedMetrics.filter(
    (metric, index) => failedMetrics.findIndex((each) => each.name === metric.name) === index,
  );
  const verdict = job.outputs['gate.verdict'];
  const score = job.outputs['gate.score'];
  return {
    result: step.result,
    ...(verdict ? { verdict } : {}),
    ...(score ? { score } : {}),
    failedMetrics: unique,
  };
}

/** The app's Deployment in a cluster: its replicas and the settings it reads. */
function deploymentFacts(cluster: EmulatedWorld['clusters']['staging']): DeploymentFacts | undefined {
  const deployment = cluster.getObject('Deployment', appNamespace, 'orders-api');
  if (!deployment) return undefined;
  const spec = deployment.spec as
    | {
        replicas?: number;
        template?: { spec?: { containers?: { envFrom?: { configMapRef?: { name?: string } }[] }[] } };
      }
    | undefined;
  const configMap = spec?.template?.spec?.containers
    ?.flatMap((container) => container.envFrom ?? [])
    .find((source) => source.configMapRef?.name)?.configMapRef?.name;
  const data = configMap
    ? (cluster.getObject('ConfigMap', appNamespace, configMap)?.data as Record<string, string> | undefined)
    : undefined;
  return {
    replicas: spec?.replicas ?? 1,
    ...(configMap ? { configMap } : {}),
    ...(data?.ENVIRONMENT ? { environment: data.ENVIRONMENT } : {}),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function podImages(cluster: EmulatedWorld['clusters']['staging']): PodImage[] {
  return cluster
    .listObjects('Pod', appNamespace)
    .filter((pod) => !pod.metadata.deletionTimestamp)
    .flatMap((pod) => {
      const spec = pod.spec as { containers?: { name: string; image: string }[] } | undefined;
      const status = pod.status as { containerStatuses?: { name: string; imageID?: string }[] } | undefined;
      return (spec?.containers ?? []).map((container) => {
        const imageID = status?.containerStatuses?.find((each) => each.name === container.name)?.imageID;
        return { pod: pod.metadata.name ?? '', image: container.image, ...(imageID ? { imageID } : {}) };
      });
    });
}

/** Whether a `secret-seen.json` the integration tests wrote holds the hash of `secret`. */
function secretSeen(runFolder: string, secret: string): boolean {
  const expected = createHash('sha256').update(secret).digest('hex');
  return filesNamed(join(runFolder, 'agent'), 'secret-seen.json').some((file) => {
    const seen = JSON.parse(readFileSync(file, 'utf8')) as { sha256?: string };
    return seen.sha256 === expected;
  });
}

function filesNamed(folder: string, name: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    if (entry === 'node_modules') return [];
    if (statSync(path).isDirectory()) return filesNamed(path, name);
    return entry === name ? [path] : [];
  });
}

function answerLine(lines: readonly string[]): string | undefined {
  return lines.find((line) => /approved|rejected|resumed/i.test(line));
}
