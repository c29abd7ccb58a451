import { groupOf, isRecord, type KubeObject } from '../shared/kubernetes/object';
import { builtIn, type Cluster } from './cluster';

const revisionAnnotation = 'deployment.kubernetes.io/revision';
const podTemplateHashLabel = 'pod-template-hash';
const controllerRevisionHashLabel = 'controller-revision-hash';

/**
 * The label values that mark the pods of the revision each workload rolled out, for the
 * `podTemplateHash` output: a Deployment's new ReplicaSet's `pod-template-hash` (the
 * ReplicaSet whose revision annotation is the Deployment's), a StatefulSet's update
 * revision and a DaemonSet's newest ControllerRevision's `controller-revision-hash`
 * (the label the controllers copy onto the pods). Read from the workloads as the rollout
 * left them, before any rollback: the pods of this release, whatever became of them.
 * Each value once, in the workloads' order; Jobs and other kinds add none.
 */
export async function releaseRevisionHashes(
  cluster: Cluster,
  workloads: readonly KubeObject[],
): Promise<string[]> {
  const listed = new Map<string, Promise<KubeObject[]>>();
  // One list per kind and namespace, however many workloads share it.
  const ownedBy = async (kind: 'ReplicaSet' | 'ControllerRevision', owner: KubeObject) => {
    const key = `${kind}/${owner.metadata.namespace ?? ''}`;
    if (!listed.has(key))
      listed.set(
        key,
        cluster.list(builtIn(kind), owner.metadata.namespace).then((answer) => answer.items),
      );
    return (await listed.get(key)!).filter((item) =>
      item.metadata.ownerReferences?.some((reference) => reference.uid === owner.metadata.uid),
    );
  };
  const hashes: (string | undefined)[] = await Promise.all(
    workloads.map(async (workload) => {
      if (groupOf(workload) !== 'apps') return undefined;
      if (workload.kind === 'Deployment') {
        const revision = workload.metadata.annotations?.[revisionAnnotation];
        if (!revision) return undefined;
        const current = (await ownedBy('ReplicaSet', workload)).find(
          (replicaSet) => replicaSet.metadata.annotations?.[revisionAnnotation] === revision,
        );
        return current?.metadata.labels?.[podTemplateHashLabel];
      }
      if (workload.kind === 'StatefulSet') {
        // The StatefulSet controller labels its pods with the whole revision name.
        const status = isRecord(workload.status) ? workload.status : {};
        return typeof status.updateRevision === 'string' ? status.updateRevision : undefined;
      }
      if (workload.kind === 'DaemonSet') {
        const newest = (await ownedBy('ControllerRevision', workload)).sort(
          (a, b) => Number(b.revision ?? 0) - Number(a.revision ?? 0),
        )[0];
        return newest?.metadata.labels?.[controllerRevisionHashLabel];
      }
      return undefined;
    }),
  );
  return [...new Set(hashes.filter((hash): hash is string => !!hash))];
}
