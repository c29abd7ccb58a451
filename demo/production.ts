/**
 * `--break production`: the new release passes staging, is promoted and rolls out on
 * production, then runs out of memory there (production's traffic, which staging never
 * sees): its containers are OOMKilled as soon as they run. Container Insights sends that to
 * production's workspace, where the CD example's Verify stage finds it.
 */
import { appNamespace, type EmulatedWorld } from './world';
import type { KubeObject } from '../test/emulators/kubernetes/object';

/** How often the world looks at production's Deployment (ms). */
const watchEveryMs = 10;

/**
 * Waits in the background until production's Deployment has rolled out `image` (as
 * `kubectl rollout status` judges it, so AksDeploy@1 has seen it succeed), then makes that
 * image's containers OOMKilled from then on, and has Container Insights collect as soon as
 * they have restarted. Returns a function that stops watching.
 */
export function outOfMemoryOnceLive(world: EmulatedWorld, image: string): () => void {
  const cluster = world.clusters.production;
  let misbehaving = false;
  const timer = setInterval(() => {
    if (!misbehaving) {
      const deployment = cluster.getObject('Deployment', appNamespace, 'orders-api');
      if (!deployment || !rolledOut(deployment, image)) return;
      misbehaving = true;
      // At once, every container of the release: Verify starts within half a second of the
      // rollout, and a container that lived on past its first query would pass it.
      cluster.setImageBehaviour(image, {
        exitAfterMs: 0,
        exitCode: 137,
        exitReason: 'OOMKilled',
        usage: { cpu: '120m', memory: '255Mi' },
      });
      return;
    }
    if (restarted(cluster.listObjects('Pod', appNamespace), image)) {
      world.containerInsights.production.collect();
      clearInterval(timer);
    }
  }, watchEveryMs);
  timer.unref();
  return () => clearInterval(timer);
}

// kubectl's rollout status for a Deployment: the spec observed, every replica updated and
// available, no old one left; and the template runs `image`.
function rolledOut(deployment: KubeObject, image: string): boolean {
  const spec = deployment.spec as
    { replicas?: number; template?: { spec?: { containers?: { image?: string }[] } } } | undefined;
  const status = (deployment.status ?? {}) as Record<string, number | undefined>;
  const desired = spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  return (
    spec?.template?.spec?.containers?.some((container) => container.image === image) === true &&
    Number(deployment.metadata.generation ?? 0) <= (status.observedGeneration ?? 0) &&
    updated >= desired &&
    (status.replicas ?? 0) <= updated &&
    (status.availableReplicas ?? 0) >= updated
  );
}

function restarted(pods: readonly KubeObject[], image: string): boolean {
  return pods.some((pod) =>
    ((pod.status?.containerStatuses ?? []) as { image?: string; restartCount?: number }[]).some(
      (status) => status.image === image && (status.restartCount ?? 0) > 0,
    ),
  );
}
