import type { KubeObject } from './object';
import { groupVersion, type ResourceType } from './resources';

/**
 * Just enough OpenAPI v3 for kubectl: the index of group-versions, and per group-version
 * a document whose PATCH operations name their kind (`x-kubernetes-group-version-kind`) and
 * list the `fieldValidation` parameter. kubectl reads that to learn the server validates
 * fields itself, and then skips its own schema validation, so no real schemas are needed.
 */
export function openApiIndex(types: readonly ResourceType[]): KubeObject {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const type of types) {
    const path = type.group ? `apis/${type.group}/${type.version}` : 'api/v1';
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hashOf(path)}` };
  }
  return { paths };
}

/** The document for one group-version, or undefined when it is not served. */
export function openApiGroupVersion(
  types: readonly ResourceType[],
  group: string,
  version: string,
): KubeObject | undefined {
  const served = types.filter((type) => type.group === group && type.version === version);
  if (served.length === 0) return undefined;
  const schemas: Record<string, KubeObject> = {};
  const paths: Record<string, KubeObject> = {};
  for (const type of served) {
    const base = type.group ? `/apis/${type.group}/${type.version}` : '/api/v1';
    const scope = type.namespaced ? '/namespaces/{namespace}' : '';
    paths[`${base}${scope}/${type.resource}/{name}`] = {
      patch: {
        operationId: `patch${type.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: type.group, version: type.version, kind: type.kind },
        parameters: ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
          name,
          in: 'query',
          schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
        })),
        responses: { '200': { description: 'OK' } },
      },
    };
    const prefix = type.group ? type.group.split('.').reverse().join('.') : 'io.k8s.api.core';
    schemas[`${prefix}.${type.version}.${type.kind}`] = {
      type: 'object',
      description: `${type.kind} (${groupVersion(type)})`,
      'x-kubernetes-preserve-unknown-fields': true,
      'x-kubernetes-group-version-kind': [{ group: type.group, kind: type.kind, version: type.version }],
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.31.3' },
    paths,
    components: { schemas },
  };
}

function hashOf(path: string): string {
  let hash = 0;
  for (const char of path) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash.toString(16).toUpperCase().padStart(8, '0');
}
