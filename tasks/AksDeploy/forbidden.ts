import { KubernetesApiError } from '../shared/kubernetes/client';
import { quotedFirstLine } from '../shared/known-secrets';
import { TaskError } from '../shared/task-error';
import type { Cluster, ResourceAttributes } from './cluster';

/**
 * What a failed call asked to do, in the authorizer's terms, read from the client's
 * operation (`PATCH /apis/apps/v1/namespaces/shop/deployments/api`, `WATCH /api/v1/pods`):
 * the verb from the method, the group, resource, subresource, namespace and name from the
 * path. Undefined for a path that names no resource (discovery, OpenAPI).
 */
export function accessOf(operation: string): ResourceAttributes | undefined {
  const [method, path = ''] = operation.split(' ', 2);
  const match = /^\/api\/v1\/(.+)$/.exec(path) ?? /^\/apis\/([^/]+)\/[^/]+\/(.+)$/.exec(path);
  if (!match) return undefined;
  const group = match.length === 3 ? match[1]! : '';
  let segments = match[match.length - 1]!.split('/').map(decodeURIComponent);
  let namespace: string | undefined;
  // namespaces/<ns>/<resource>/... is scoped; namespaces/<name>[/<subresource>] is the namespace itself.
  if (segments[0] === 'namespaces' && segments.length >= 3) {
    namespace = segments[1];
    segments = segments.slice(2);
  }
  const [resource, name, subresource] = segments;
  if (!resource) return undefined;
  const verbs: Record<string, string> = {
    GET: name === undefined ? 'list' : 'get',
    WATCH: 'watch',
    POST: 'create',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: name === undefined ? 'deletecollection' : 'delete',
  };
  const verb = verbs[method ?? ''];
  if (!verb) return undefined;
  return {
    verb,
    group,
    resource,
    ...(subresource ? { subresource } : {}),
    ...(namespace ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
  };
}

/** `deployments.apps`, `pods/log`, `namespaces`: a resource as RBAC rules and kubectl name it. */
export function qualifiedResource(attributes: ResourceAttributes): string {
  const resource = attributes.subresource
    ? `${attributes.resource}/${attributes.subresource}`
    : attributes.resource;
  return attributes.group ? `${resource}.${attributes.group}` : resource;
}

/**
 * Turns a 403 into the line that names the missing permission: which verb on which
 * resource in which namespace, for which identity, as a SelfSubjectAccessReview (what
 * `kubectl auth can-i` asks) confirms it. A 403 the review does not confirm (an
 * admission refusal, say) is reported with the server's own message, as is one whose
 * review cannot be made.
 */
export async function explainForbidden(cluster: Cluster, error: KubernetesApiError): Promise<TaskError> {
  const plain = new TaskError('ClusterForbidden', [error.operation, error.message], error);
  const attributes = accessOf(error.operation);
  if (!attributes) return plain;
  let decision;
  try {
    decision = await cluster.accessReview(attributes);
  } catch {
    // The review itself failed: the server's message is all there is to go on.
    return plain;
  }
  if (decision.allowed) return plain;
  const user = await cluster.userName();
  const identity = user ? `the identity '${user}'` : "the connection's identity";
  const resource = qualifiedResource(attributes);
  const scope = attributes.namespace ? `in the namespace '${attributes.namespace}'` : 'at the cluster scope';
  const reason = decision.reason ? ` (the cluster says: ${quotedFirstLine(decision.reason)})` : '';
  return new TaskError(
    'ClusterForbiddenPermission',
    [error.operation, identity, attributes.verb, resource, scope, reason, attributes.verb, resource],
    error,
  );
}
