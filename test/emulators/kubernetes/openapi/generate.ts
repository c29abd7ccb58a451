/**
 * Writes `kubernetes-openapi.json.br` from Kubernetes' own OpenAPI documents: the
 * `api/openapi-spec` folder of a kubernetes/kubernetes release branch (swagger.json for
 * v2, v3/*_openapi.json for v3), cut down to what the emulator serves. Kept: the paths of
 * the served resources and subresources, and the schemas those paths and the served kinds
 * reach through `$ref`; nothing is written by hand. Run it after changing the served types
 * (resources.ts) or moving to another release:
 *
 *   node --import tsx test/emulators/kubernetes/openapi/generate.ts <kubernetes>/api/openapi-spec release-1.31
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { builtInTypes, groupVersion, type ResourceType } from '../resources';

type Json = Record<string, unknown>;

/** The file the emulator reads (see openapi.ts). */
export const dataFile = join(__dirname, 'kubernetes-openapi.json.br');

/** The stored documents: v2 whole, v3 by group-version path (`api/v1`, `apis/apps/v1`). */
export interface OpenApiData {
  readonly source: string;
  readonly v2: Json;
  readonly v3: Record<string, Json>;
}

// The served resource of a path, and its subresource, or undefined for a path that names
// no resource (the group-version's discovery root is kept as `''`).
function resourceOfPath(
  path: string,
): { groupVersion: string; resource: string; subresource?: string } | undefined {
  const match = /^\/api\/(v1)\/?(.*)$/.exec(path) ?? /^\/apis\/([^/]+\/[^/]+)\/?(.*)$/.exec(path);
  if (!match) return undefined;
  const groupVersion = match[1]!;
  let segments = match[2]!.split('/').filter(Boolean);
  if (segments[0] === 'watch') segments = segments.slice(1);
  if (segments.length === 0) return { groupVersion, resource: '' };
  if (segments[0] === 'namespaces' && segments[1] === '{namespace}' && segments.length >= 3)
    segments = segments.slice(2);
  return { groupVersion, resource: segments[0]!, ...(segments[2] ? { subresource: segments[2] } : {}) };
}

function served(types: readonly ResourceType[], path: string): boolean {
  const found = resourceOfPath(path);
  if (!found) return false;
  const here = types.filter((each) => groupVersion(each) === found.groupVersion);
  if (found.resource === '') return here.length > 0;
  const type = here.find((each) => each.resource === found.resource);
  return !!type && (!found.subresource || !!type.subresources?.includes(found.subresource));
}

// Every `$ref` under a value, by the name after the given prefix.
function refsIn(value: unknown, prefix: string, into: Set<string>): void {
  if (Array.isArray(value)) for (const item of value) refsIn(item, prefix, into);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value as Json)) {
      if (key === '$ref' && typeof child === 'string' && child.startsWith(prefix))
        into.add(child.slice(prefix.length));
      else refsIn(child, prefix, into);
    }
  }
}

// The named entries reachable from `roots` through refs, the roots included.
function closure(entries: Json, roots: Iterable<string>, prefix: string): Json {
  const kept: Json = {};
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (name in kept || !(name in entries)) continue;
    kept[name] = entries[name];
    const refs = new Set<string>();
    refsIn(entries[name], prefix, refs);
    queue.push(...refs);
  }
  return Object.fromEntries(
    Object.keys(kept)
      .sort()
      .map((name) => [name, kept[name]]),
  );
}

// The schema names of the served kinds of some types (and their lists), by their
// x-kubernetes-group-version-kind.
function kindSchemas(schemas: Json, types: readonly ResourceType[]): string[] {
  return Object.entries(schemas)
    .filter(([, schema]) => {
      const gvks = ((schema as Json)['x-kubernetes-group-version-kind'] ?? []) as Json[];
      return gvks.some((gvk) =>
        types.some(
          (type) =>
            gvk.group === type.group &&
            gvk.version === type.version &&
            (gvk.kind === type.kind || gvk.kind === `${type.kind}List`),
        ),
      );
    })
    .map(([name]) => name);
}

function pathsOf(paths: Json, types: readonly ResourceType[]): Json {
  return Object.fromEntries(Object.entries(paths).filter(([path]) => served(types, path)));
}

/** Cuts swagger.json down to the served types. */
export function cutV2(swagger: Json, types: readonly ResourceType[]): Json {
  const paths = pathsOf(swagger.paths as Json, types);
  const definitionRoots = new Set(kindSchemas(swagger.definitions as Json, types));
  refsIn(paths, '#/definitions/', definitionRoots);
  refsIn(swagger.parameters, '#/definitions/', definitionRoots);
  const usedParameters = new Set<string>();
  refsIn(paths, '#/parameters/', usedParameters);
  return {
    swagger: swagger.swagger,
    info: swagger.info,
    paths,
    definitions: closure(swagger.definitions as Json, definitionRoots, '#/definitions/'),
    parameters: closure(swagger.parameters as Json, usedParameters, '#/parameters/'),
    securityDefinitions: swagger.securityDefinitions,
    security: swagger.security,
  };
}

/** Cuts one group-version's v3 document down to its served types. */
export function cutV3(document: Json, types: readonly ResourceType[]): Json {
  const components = document.components as Json;
  const schemas = components.schemas as Json;
  const paths = pathsOf(document.paths as Json, types);
  const roots = new Set(kindSchemas(schemas, types));
  refsIn(paths, '#/components/schemas/', roots);
  return {
    openapi: document.openapi,
    info: document.info,
    paths,
    components: { ...components, schemas: closure(schemas, roots, '#/components/schemas/') },
  };
}

function main(): void {
  const [folder, release] = process.argv.slice(2);
  if (!folder || !release) {
    console.error('usage: generate.ts <kubernetes>/api/openapi-spec <release, e.g. release-1.31>');
    process.exit(2);
  }
  const types = builtInTypes;
  const swagger = JSON.parse(readFileSync(join(folder, 'swagger.json'), 'utf8')) as Json;
  const v3: Record<string, Json> = {};
  for (const file of readdirSync(join(folder, 'v3')).sort()) {
    // api__v1_openapi.json, apis__apps__v1_openapi.json
    const match = /^(apis?)__(.+)_openapi\.json$/.exec(file);
    if (!match) continue;
    const path = `${match[1]}/${match[2]!.split('__').join('/')}`;
    const servedHere = types.filter(
      (type) => (type.group ? `apis/${groupVersion(type)}` : 'api/v1') === path,
    );
    if (servedHere.length === 0) continue;
    v3[path] = cutV3(JSON.parse(readFileSync(join(folder, 'v3', file), 'utf8')) as Json, servedHere);
  }
  const data: OpenApiData = {
    source: `kubernetes/kubernetes ${release}, api/openapi-spec (Apache-2.0, see LICENSE beside this file)`,
    v2: cutV2(swagger, types),
    v3,
  };
  const text = JSON.stringify(data);
  // Brotli with a window over the whole text: the v3 documents repeat the core schemas
  // (PodSpec and what it reaches) in every group-version, beyond gzip's 32 KB window.
  const packed = brotliCompressSync(text, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_LGWIN]: 24,
      [constants.BROTLI_PARAM_SIZE_HINT]: text.length,
    },
  });
  writeFileSync(dataFile, packed);
  console.log(
    `${dataFile}: ${Object.keys(v3).length} group-versions, ${text.length} bytes of JSON, ${packed.length} compressed`,
  );
}

if (require.main === module) main();
