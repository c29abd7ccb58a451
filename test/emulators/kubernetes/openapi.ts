import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import type { KubeObject } from './object';
import { groupVersion, type ResourceType } from './resources';

/**
 * OpenAPI v2 (`/openapi/v2`) and v3 (`/openapi/v3`, one document per group-version) as a
 * real API server publishes them: the built-in kinds from Kubernetes' own documents (see
 * openapi/generate.ts), and each stored CRD's kinds from the schemas of its versions, with
 * paths built as the server builds them for any resource (here from the ConfigMap and
 * PersistentVolume paths of the same documents). kubectl reads v3 to validate fields,
 * explain them and find which query parameters a PATCH takes.
 */

interface OpenApiData {
  readonly source: string;
  readonly v2: KubeObject;
  readonly v3: Record<string, KubeObject>;
}

let data: OpenApiData | undefined;

// Loaded on first use: 5 MB of JSON that most tests never ask for.
function builtIn(): OpenApiData {
  data ??= JSON.parse(
    brotliDecompressSync(readFileSync(join(__dirname, 'openapi', 'kubernetes-openapi.json.br'))).toString(),
  ) as OpenApiData;
  return data;
}

/** The v3 path of a type's group-version: `api/v1`, `apis/apps/v1`. */
function v3Path(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `apis/${groupVersion(type)}` : 'api/v1';
}

/** `GET /openapi/v3`: every served group-version, each with the hash of its document. */
export function openApiIndex(types: readonly ResourceType[], crds: readonly KubeObject[]): KubeObject {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const path of [...new Set(types.map(v3Path))]) {
    const [group, version] = path === 'api/v1' ? ['', 'v1'] : path.slice('apis/'.length).split('/');
    const document = openApiGroupVersion(types, crds, group!, version!);
    if (document) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hashOf(document)}` };
  }
  return { paths };
}

/** `GET /openapi/v3/<path>`: the document of one group-version, or undefined when it is not served. */
export function openApiGroupVersion(
  types: readonly ResourceType[],
  crds: readonly KubeObject[],
  group: string,
  version: string,
): KubeObject | undefined {
  const served = types.filter((type) => type.group === group && type.version === version);
  if (served.length === 0) return undefined;
  const path = v3Path({ group, version });
  const stored = builtIn().v3[path];
  if (stored && !served.some((type) => type.custom)) return stored;
  return customV3(
    served.filter((type) => type.custom),
    crds,
  );
}

/** `GET /openapi/v2`: one document for everything, the CRDs' kinds included. */
export function openApiV2(types: readonly ResourceType[], crds: readonly KubeObject[]): KubeObject {
  const base = builtIn().v2;
  const custom = types.filter((type) => type.custom);
  if (custom.length === 0) return base;
  const paths = { ...base.paths };
  const definitions = { ...base.definitions };
  for (const type of custom) {
    const schema = crdSchema(crds, type);
    Object.assign(paths, customPaths(base.paths, type, '#/definitions/'));
    definitions[schemaName(type)] = {
      ...v2Schema(objectSchema(schema, '#/definitions/')),
      'x-kubernetes-group-version-kind': [{ group: type.group, kind: type.kind, version: type.version }],
    };
    definitions[`${schemaName(type)}List`] = listSchema(type, '#/definitions/');
  }
  return { ...base, paths, definitions };
}

const hashes = new WeakMap<KubeObject, string>();

/** A content hash, as the server's `?hash=` (kubectl caches documents by it); the built-in documents' are computed once. */
export function hashOf(document: KubeObject): string {
  let hash = hashes.get(document);
  if (hash === undefined) {
    hash = createHash('sha512').update(JSON.stringify(document)).digest('hex').toUpperCase();
    hashes.set(document, hash);
  }
  return hash;
}

// The CRD's schema for one version, the CustomResourceDefinition objects being given by the caller.
function crdSchema(crds: readonly KubeObject[], type: ResourceType): KubeObject {
  const crd = crds.find((each) => each.spec?.group === type.group && each.spec?.names?.kind === type.kind);
  const version = ((crd?.spec?.versions ?? []) as KubeObject[]).find((each) => each.name === type.version);
  return version?.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
}

/** The reverse-domain schema name the server gives a kind: `com.example.v1.Widget`. */
function schemaName(type: ResourceType): string {
  return `${type.group.split('.').reverse().join('.')}.${type.version}.${type.kind}`;
}

// A CRD schema as the server publishes it: apiVersion, kind and metadata filled in
// (k8s.io/apiextensions-apiserver pkg/controller/openapi/builder).
function objectSchema(schema: KubeObject, prefix: string): KubeObject {
  const properties = { ...schema.properties };
  properties.apiVersion = {
    description:
      'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
    type: 'string',
  };
  properties.kind = {
    description:
      'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
    type: 'string',
  };
  const metadata = `${prefix}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`;
  properties.metadata =
    prefix === '#/definitions/'
      ? { description: "Standard object's metadata.", $ref: metadata }
      : { allOf: [{ $ref: metadata }], description: "Standard object's metadata." };
  return { ...schema, type: 'object', properties };
}

function listSchema(type: ResourceType, prefix: string): KubeObject {
  const item = `${prefix}${schemaName(type)}`;
  return {
    description: `${type.kind}List is a list of ${type.kind}`,
    properties: {
      apiVersion: { type: 'string' },
      items: { description: `List of ${type.resource}.`, items: { $ref: item }, type: 'array' },
      kind: { type: 'string' },
      metadata: { $ref: `${prefix}io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta` },
    },
    required: ['items'],
    type: 'object',
    'x-kubernetes-group-version-kind': [
      { group: type.group, kind: `${type.kind}List`, version: type.version },
    ],
  };
}

// OpenAPI v2 has no nullable, anyOf or oneOf in the subset Kubernetes publishes: the
// server drops them from CRD schemas for v2 (apiextensions-apiserver's ToStructuralOpenAPIV2).
function v2Schema(schema: unknown): KubeObject {
  if (Array.isArray(schema)) return schema.map(v2Schema) as unknown as KubeObject;
  if (!schema || typeof schema !== 'object') return schema as KubeObject;
  const result: KubeObject = {};
  for (const [key, value] of Object.entries(schema as KubeObject)) {
    if (['nullable', 'anyOf', 'oneOf', 'not', 'x-kubernetes-validations'].includes(key)) continue;
    result[key] = v2Schema(value);
  }
  return result;
}

// The paths of a custom resource, written from those of a built-in one of the same scope.
function customPaths(templatePaths: KubeObject, type: ResourceType, prefix: string): KubeObject {
  const template = type.namespaced
    ? {
        base: '/api/v1/namespaces/{namespace}/configmaps',
        kind: 'ConfigMap',
        schema: 'io.k8s.api.core.v1.ConfigMap',
        operation: 'CoreV1Namespaced',
      }
    : {
        base: '/api/v1/persistentvolumes',
        kind: 'PersistentVolume',
        schema: 'io.k8s.api.core.v1.PersistentVolume',
        operation: 'CoreV1',
      };
  const base = type.namespaced
    ? `/apis/${groupVersion(type)}/namespaces/{namespace}/${type.resource}`
    : `/apis/${groupVersion(type)}/${type.resource}`;
  const operation = `${camel(type.group)}${camel(type.version)}${type.namespaced ? 'Namespaced' : ''}`;
  const paths: KubeObject = {};
  for (const suffix of ['', '/{name}']) {
    const item = templatePaths[`${template.base}${suffix}`];
    if (!item) continue;
    const text = JSON.stringify(item)
      .split(`${prefix}${template.schema}`)
      .join(`${prefix}${schemaName(type)}`)
      .split(`"group":"","kind":"${template.kind}","version":"v1"`)
      .join(
        `"group":${JSON.stringify(type.group)},"kind":${JSON.stringify(type.kind)},"version":${JSON.stringify(type.version)}`,
      )
      .split(template.operation)
      .join(operation)
      .split(template.kind)
      .join(type.kind);
    paths[`${base}${suffix}`] = JSON.parse(text) as KubeObject;
  }
  return paths;
}

function camel(text: string): string {
  return text
    .split(/[.-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

// The v3 document of a CRD group-version: its kinds, the meta schemas they use, and paths.
function customV3(types: readonly ResourceType[], crds: readonly KubeObject[]): KubeObject | undefined {
  if (types.length === 0) return undefined;
  const core = builtIn().v3['api/v1']!;
  const prefix = '#/components/schemas/';
  const coreSchemas = core.components.schemas as KubeObject;
  const schemas: KubeObject = {};
  for (const name of Object.keys(coreSchemas)) {
    if (name.startsWith('io.k8s.apimachinery.')) schemas[name] = coreSchemas[name];
  }
  const paths: KubeObject = {};
  for (const type of types) {
    schemas[schemaName(type)] = {
      ...objectSchema(crdSchema(crds, type), prefix),
      'x-kubernetes-group-version-kind': [{ group: type.group, kind: type.kind, version: type.version }],
    };
    const list = listSchema(type, prefix);
    list.properties.metadata = { allOf: [list.properties.metadata], default: {} };
    schemas[`${schemaName(type)}List`] = list;
    Object.assign(paths, customPaths(core.paths, type, prefix));
  }
  return {
    openapi: core.openapi,
    info: core.info,
    paths,
    components: { ...core.components, schemas },
  };
}
