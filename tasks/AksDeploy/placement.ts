import type { KubeObject } from '../shared/kubernetes/object';

/** Namespaces that decide where an object without its own goes. */
export interface NamespaceDefaults {
  /** The `namespace` input. */
  readonly input?: string;
  /** The namespace of the Kubernetes connection, the environment resource, or the kubeconfig context. */
  readonly connection?: string;
}

/**
 * The namespace an object is applied to. The manifest's own namespace always wins (an
 * object that names one was written for it); objects without one get the `namespace`
 * input, else the connection's or environment's, else `default`. Cluster-scoped objects
 * get none, whatever their manifest says, as the API server would ignore it.
 */
export function namespaceFor(
  object: KubeObject,
  namespaced: boolean,
  defaults: NamespaceDefaults,
): string | undefined {
  if (!namespaced) return undefined;
  return object.metadata.namespace || defaults.input || defaults.connection || 'default';
}

/** A copy of the object with its namespace decided. */
export function placed(object: KubeObject, namespace: string | undefined): KubeObject {
  const metadata = { ...object.metadata };
  if (namespace === undefined) delete metadata.namespace;
  else metadata.namespace = namespace;
  return { ...object, metadata };
}
