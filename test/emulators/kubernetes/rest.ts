import { parse as parseYaml } from 'yaml';
import type { EmulatedRequest, EmulatedResponse } from '../types';
import { asServed } from './conversions';
import { coreVersions, group, groupList, resourceList, serverVersion, storageKey } from './discovery';
import { applyConfiguration, recordUpdate } from './managed-fields';
import { hashOf, openApiGroupVersion, openApiIndex, openApiV2 } from './openapi';
import { encodeOpenApiV2, openApiV2Protobuf } from './openapi-protobuf';
import { ApiError, badRequest, type KubeObject } from './object';
import type { DeleteOptions, ObjectService, PropagationPolicy } from './objects';
import {
  answerReview,
  deniedReason,
  isReview,
  isSelfReview,
  type AccessRequest,
  type Authorization,
} from './reviews';
import { jsonPatch, mergePatch, patchTypeOf, strategicMergePatch } from './patch';
import { decodeProtobuf, encodeProtobuf, prefersProtobuf, protobufMediaType } from './protobuf';
import { groupVersion, type ResourceType } from './resources';
import { parseFieldSelector, parseLabelSelector } from './selectors';
import type { WatchEvent } from './store';
import { includedObject, toTable, wantsTable } from './table';
import type { LogOptions } from './controllers/kubelet';

/** Serves `GET .../pods/<name>/log`: the text, or an ApiError. */
export type PodLogReader = (pod: KubeObject, options: LogOptions) => string;

/** What the REST layer needs from its cluster. */
export interface RestContext {
  readonly objects: ObjectService;
  /** The user the request's credentials name, or undefined (401 follows). */
  readonly authenticate: (request: EmulatedRequest) => string | undefined;
  /** Whether a user may do something (403 Forbidden otherwise), and what it may do, for the reviews. */
  readonly authorization: Authorization;
  /** The user a bearer token names (TokenReview), or undefined. */
  readonly userOfToken: (token: string) => string | undefined;
  readonly readLogs: PodLogReader;
}

export type { AccessRequest } from './reviews';

/** A parsed resource URL. */
interface ResourceRequest {
  readonly type: ResourceType;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

const notFoundPath = new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

/**
 * The Kubernetes REST API over an ObjectService: discovery, CRUD, server-side apply,
 * patches, watch and pod logs, with `Status` bodies for every error.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/
 */
export async function answerKubernetes(
  context: RestContext,
  request: EmulatedRequest,
): Promise<EmulatedResponse> {
  const answer = (): EmulatedResponse => {
    try {
      const user = context.authenticate(request);
      if (user === undefined) {
        return status(new ApiError(401, 'Unauthorized', 'Unauthorized'));
      }
      return route(context, request, user);
    } catch (error) {
      if (error instanceof ApiError) return status(error);
      throw error;
    }
  };
  return inAcceptedEncoding(request, answer());
}

// A client whose first choice is protobuf (client-go's typed clients) gets a built-in
// kind, a list of them or a Status encoded so; custom resources, Tables and watch streams
// stay JSON, which such a client also accepts.
function inAcceptedEncoding(request: EmulatedRequest, response: EmulatedResponse): EmulatedResponse {
  const body = response.body;
  if (
    !prefersProtobuf(request.headers.accept) ||
    response.stream ||
    response.headers?.['content-type'] !== 'application/json'
  )
    return response;
  if (!body || typeof body !== 'object' || Buffer.isBuffer(body)) return response;
  const encoded = encodeProtobuf(body as KubeObject);
  if (!encoded) return response;
  return { ...response, headers: { ...response.headers, 'content-type': protobufMediaType }, body: encoded };
}

function route(context: RestContext, request: EmulatedRequest, user: string): EmulatedResponse {
  const path = request.url.pathname.replace(/\/+$/, '') || '/';
  const types = context.objects.types;
  if (request.method === 'GET') {
    if (path === '/version') return json(200, serverVersion);
    if (['/healthz', '/livez', '/readyz'].includes(path))
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };
    if (path === '/api') return json(200, coreVersions(request.url.host));
    if (path === '/apis') return json(200, groupList(types));
    const groupOnly = /^\/apis\/([^/]+)$/.exec(path);
    if (groupOnly) return found(group(types, groupOnly[1]!));
    if (path === '/api/v1') return found(resourceList(types, '', 'v1'));
    const crds = () => context.objects.store.list('apiextensions.k8s.io/customresourcedefinitions');
    if (path === '/openapi/v2') return openApiV2Response(request, openApiV2(types.all(), crds()));
    if (path === '/openapi/v3') return json(200, openApiIndex(types.all(), crds()));
    const openApi = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (openApi) {
      const document = openApiGroupVersion(types.all(), crds(), openApi[2] ?? '', openApi[1] ?? openApi[3]!);
      if (!document) throw notFoundPath;
      // A document asked for by its hash never changes: kubectl keeps it for good.
      const cache =
        request.url.searchParams.get('hash') === hashOf(document) ? 'public, immutable' : 'no-cache, private';
      return {
        status: 200,
        headers: { 'content-type': 'application/json', 'cache-control': cache },
        body: document,
      };
    }
    const groupVersionOnly = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
    if (groupVersionOnly) return found(resourceList(types, groupVersionOnly[1]!, groupVersionOnly[2]!));
  }
  const parsed = parseResourcePath(context, path);
  if (!parsed) throw notFoundPath;
  const access: AccessRequest = {
    user,
    verb: verbOf(request, parsed),
    group: parsed.type.group,
    resource: parsed.type.resource,
    subresource: parsed.subresource,
    namespace: parsed.namespace,
    name: parsed.name,
  };
  // Every authenticated user may ask what it may do itself (RBAC's system:basic-user role).
  if (!isSelfReview(parsed.type) && !context.authorization.allows(access)) throw forbidden(access);
  if (isReview(parsed.type)) {
    if (request.method !== 'POST' || parsed.name !== undefined) throw methodNotAllowed(request.method);
    const review = parseBody(request);
    checkKind(parsed.type, review);
    return json(
      201,
      answerReview(parsed.type, review, {
        user,
        namespace: parsed.namespace,
        authorization: context.authorization,
        userOfToken: context.userOfToken,
      }),
    );
  }
  return serveResource(context, request, parsed);
}

// kubectl asks for the v2 document as protobuf (client-go's OpenAPISchema), other clients
// for JSON; the encoded form of a document is kept, as the server keeps its own.
const encodedV2 = new WeakMap<KubeObject, Buffer>();
function openApiV2Response(request: EmulatedRequest, document: KubeObject): EmulatedResponse {
  const accept = request.headers.accept ?? '*/*';
  if (accept.includes(openApiV2Protobuf)) {
    let body = encodedV2.get(document);
    if (!body) encodedV2.set(document, (body = encodeOpenApiV2(document)));
    // Answered under the name with a dot for the '@', which a media type cannot hold (kube-openapi's handler does the same).
    return {
      status: 200,
      headers: { 'content-type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf' },
      body,
    };
  }
  if (!/application\/json|\*\/\*/.test(accept)) {
    return status(
      new ApiError(
        406,
        'NotAcceptable',
        `only the following media types are accepted: application/json, ${openApiV2Protobuf}`,
      ),
    );
  }
  return json(200, document);
}

function parseResourcePath(context: RestContext, path: string): ResourceRequest | undefined {
  const match = /^\/api\/(v1)\/(.+)$/.exec(path) ?? /^\/apis\/([^/]+\/[^/]+)\/(.+)$/.exec(path);
  if (!match) return undefined;
  const [groupName, version] = match[1]!.includes('/') ? match[1]!.split('/') : ['', match[1]!];
  const segments = match[2]!.split('/').map(decodeURIComponent);
  const find = (resource: string) => context.objects.types.find(groupName!, version!, resource);
  let namespace: string | undefined;
  let rest = segments;
  // `namespaces/<ns>/<resource>...` scopes a namespaced resource; `namespaces/<name>[/status]` is the namespace itself.
  if (segments[0] === 'namespaces' && segments.length >= 3 && find(segments[2]!)?.namespaced) {
    namespace = segments[1];
    rest = segments.slice(2);
  }
  const type = find(rest[0]!);
  if (!type || rest.length > 3) return undefined;
  if (type.namespaced && namespace === undefined && rest.length > 1) return undefined;
  const subresource = rest[2];
  if (subresource && !type.subresources?.includes(subresource)) return undefined;
  return { type, namespace, name: rest[1], subresource };
}

function serveResource(
  context: RestContext,
  request: EmulatedRequest,
  target: ResourceRequest,
): EmulatedResponse {
  const { objects } = context;
  const { type, namespace, name, subresource } = target;
  const query = request.url.searchParams;
  const dryRun = query.getAll('dryRun').includes('All');
  const apiVersion = groupVersion(type);

  if (name === undefined) {
    if (request.method === 'GET') {
      if (isTrue(query.get('watch'))) return watch(context, request, target);
      const listed = list(context, target, query);
      if (wantsTable(request.headers.accept)) {
        return json(200, {
          ...toTable(type, listed.items, listed.metadata.resourceVersion, includedObject(query)),
          metadata: listed.metadata,
        });
      }
      return json(200, listed);
    }
    if (request.method === 'POST') {
      const body = parseBody(request);
      if (namespace && body.metadata?.namespace && body.metadata.namespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      checkKind(type, body);
      const prepared = objects.prepareCreate(type, body, namespace);
      const manager = managerOf(request);
      const created = objects.create(type, recordUpdate(undefined, prepared, { manager, apiVersion }), {
        dryRun,
      });
      return json(201, created);
    }
    if (request.method === 'DELETE') {
      const selected = list(context, target, query).items as KubeObject[];
      const options = deleteOptions(request);
      const deleted = selected.map(
        (each) => objects.delete(type, namespace, each.metadata.name, options).object,
      );
      return json(200, { ...list(context, target, new URLSearchParams()), items: deleted });
    }
    throw methodNotAllowed(request.method);
  }

  if (subresource === 'scale')
    return scale(context, request, target as ResourceRequest & { name: string }, dryRun);

  if (subresource === 'log') {
    if (request.method !== 'GET') throw methodNotAllowed(request.method);
    const pod = objects.get(type, namespace, name);
    const tail = query.get('tailLines');
    const since = query.get('sinceSeconds');
    let text = context.readLogs(pod, {
      container: query.get('container') ?? undefined,
      previous: isTrue(query.get('previous')),
      tailLines: tail === null ? undefined : Number(tail),
      timestamps: isTrue(query.get('timestamps')),
      sinceSeconds: since === null ? undefined : Number(since),
    });
    const limit = query.get('limitBytes');
    if (limit !== null) text = Buffer.from(text).subarray(0, Number(limit)).toString();
    return { status: 200, headers: { 'content-type': 'text/plain' }, body: text };
  }

  switch (request.method) {
    case 'GET': {
      const object = objects.get(type, namespace, name);
      if (wantsTable(request.headers.accept) && !subresource) {
        return json(
          200,
          toTable(type, [object], String(object.metadata.resourceVersion), includedObject(query)),
        );
      }
      return json(200, object);
    }
    case 'PUT': {
      const body = parseBody(request);
      checkKind(type, body);
      checkName(body, name);
      const live = objects.get(type, namespace, name);
      if (subresource === 'finalize') {
        // The namespace finalize subresource writes spec.finalizers and nothing else.
        const finalized = { ...live, spec: { ...live.spec, finalizers: body.spec?.finalizers ?? [] } };
        return json(200, objects.update(type, finalized, { dryRun }));
      }
      const updated = objects.prepareUpdate(
        type,
        live,
        { ...body, metadata: { ...body.metadata, managedFields: live.metadata.managedFields } },
        subresource,
      );
      const recorded = recordUpdate(live, updated, {
        manager: managerOf(request),
        apiVersion,
        subresource,
      });
      return json(
        200,
        objects.update(type, recorded, { dryRun, expectedVersion: body.metadata?.resourceVersion }),
      );
    }
    case 'PATCH':
      return patch(
        context,
        request,
        target as Required<Pick<ResourceRequest, 'name'>> & ResourceRequest,
        dryRun,
      );
    case 'DELETE': {
      if (subresource) throw methodNotAllowed(request.method);
      const { object, gone } = objects.delete(type, namespace, name, deleteOptions(request));
      // What is still there (finalizers, a grace period) is answered as it now is; pods
      // always are (the pod registry's ReturnDeletedObject); the rest with a Status.
      if (!gone || type.kind === 'Pod') return json(200, object);
      return json(200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: {
          name,
          ...(type.group ? { group: type.group } : {}),
          kind: type.resource,
          uid: object.metadata.uid,
        },
      });
    }
    default:
      throw methodNotAllowed(request.method);
  }
}

// DeleteOptions from the body (kubectl sends them there) and the query (other clients).
function deleteOptions(request: EmulatedRequest): DeleteOptions {
  const query = request.url.searchParams;
  const body = request.body.length > 0 ? parseBody(request) : {};
  const grace = query.get('gracePeriodSeconds') ?? body.gracePeriodSeconds;
  const policy = query.get('propagationPolicy') ?? body.propagationPolicy ?? undefined;
  if (policy !== undefined && !['Background', 'Foreground', 'Orphan'].includes(String(policy))) {
    throw new ApiError(
      422,
      'Invalid',
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan", "nil"`,
    );
  }
  const orphan = query.get('orphanDependents') ?? body.orphanDependents;
  return {
    dryRun: query.getAll('dryRun').includes('All') || ((body.dryRun ?? []) as string[]).includes('All'),
    ...(policy !== undefined
      ? { propagationPolicy: policy as PropagationPolicy }
      : orphan !== undefined && orphan !== null
        ? { propagationPolicy: String(orphan) === 'true' ? 'Orphan' : 'Background' }
        : {}),
    ...(grace !== undefined && grace !== null ? { gracePeriodSeconds: Number(grace) } : {}),
    ...(body.preconditions ? { preconditions: body.preconditions } : {}),
  };
}

function patch(
  context: RestContext,
  request: EmulatedRequest,
  target: ResourceRequest & { name: string },
  dryRun: boolean,
): EmulatedResponse {
  const { objects } = context;
  const { type, namespace, name, subresource } = target;
  const apiVersion = groupVersion(type);
  const patchType = patchTypeOf(request.headers['content-type'] ?? '');
  if (!patchType) {
    return status(
      new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      ),
    );
  }
  const query = request.url.searchParams;
  if (patchType === 'apply') {
    const manager = query.get('fieldManager');
    if (!manager)
      throw badRequest('PATCH, application/apply-patch+yaml: fieldManager is required for apply requests');
    const config = parseYamlBody(request);
    checkKind(type, config);
    checkName(config, name);
    if (namespace && config.metadata?.namespace && config.metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const live = objects.find(type, namespace, name);
    const force = isTrue(query.get('force'));
    if (!live) {
      objects.requireNamespace(type, namespace);
      const merged = applyConfiguration(
        undefined,
        { ...config, metadata: { ...config.metadata, name } },
        { manager, apiVersion, force },
      );
      const prepared = objects.prepareCreate(type, merged, namespace);
      return json(201, objects.create(type, prepared, { dryRun }));
    }
    const expected = config.metadata?.resourceVersion;
    if (expected && expected !== live.metadata.resourceVersion) {
      throw optimisticConflict(type, name);
    }
    const merged = applyConfiguration(live, config, { manager, apiVersion, force });
    const updated = objects.prepareUpdate(type, live, merged, subresource);
    return json(200, objects.update(type, updated, { dryRun }));
  }
  const live = objects.get(type, namespace, name);
  const body = parseBody(request);
  const patched =
    patchType === 'merge'
      ? (mergePatch(live, body) as KubeObject)
      : patchType === 'strategic'
        ? (strategicMergePatch(live, body) as KubeObject)
        : jsonPatch(live, body);
  const updated = objects.prepareUpdate(type, live, patched, subresource);
  const recorded = recordUpdate(live, updated, {
    manager: managerOf(request),
    apiVersion,
    subresource,
  });
  return json(
    200,
    objects.update(type, recorded, { dryRun, expectedVersion: body?.metadata?.resourceVersion }),
  );
}

function list(context: RestContext, target: ResourceRequest, query: URLSearchParams): KubeObject {
  const labels = parseLabelSelector(query.get('labelSelector'));
  const fields = parseFieldSelector(query.get('fieldSelector'));
  const all = context.objects
    .list(target.type, target.namespace)
    .filter((object) => labels(object) && fields(object));
  // Pages are offsets into the filtered list; the token is opaque to clients, as the API promises.
  const token = query.get('continue');
  const offset = token ? Number(Buffer.from(token, 'base64url').toString()) || 0 : 0;
  const limit = Number(query.get('limit') ?? 0);
  const items = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
  const rest = all.length - offset - items.length;
  return {
    kind: `${target.type.kind}List`,
    apiVersion: groupVersion(target.type),
    metadata: {
      resourceVersion: String(context.objects.store.resourceVersion),
      ...(rest > 0
        ? {
            continue: Buffer.from(String(offset + items.length)).toString('base64url'),
            remainingItemCount: rest,
          }
        : {}),
    },
    items,
  };
}

// A watch streams one JSON event per line; from no version (or "0") it starts with the
// current objects as ADDED, as the API server's "get state and start at most recent".
function watch(context: RestContext, request: EmulatedRequest, target: ResourceRequest): EmulatedResponse {
  const query = request.url.searchParams;
  const labels = parseLabelSelector(query.get('labelSelector'));
  const fields = parseFieldSelector(query.get('fieldSelector'));
  const store = context.objects.store;
  const requested = query.get('resourceVersion');
  const sendInitial = isTrue(query.get('sendInitialEvents')) || !requested || requested === '0';
  const bookmarks = isTrue(query.get('allowWatchBookmarks'));
  const timeout = Number(query.get('timeoutSeconds') ?? 0);
  const signals = [request.signal ?? new AbortController().signal];
  if (timeout > 0) signals.push(AbortSignal.timeout(timeout * 1000));
  const signal = AbortSignal.any(signals);
  const type = target.type;
  const apiVersion = groupVersion(type);
  const selected = (object: KubeObject) => labels(object) && fields(object);
  const line = (event: KubeObject) => `${JSON.stringify(event)}\n`;

  let fromVersion = sendInitial ? store.resourceVersion : Number(requested);
  let expired: ApiError | undefined;
  let events: AsyncIterable<WatchEvent> | undefined;
  const initial = sendInitial ? context.objects.list(type, target.namespace).filter(selected) : [];
  try {
    if (!Number.isFinite(fromVersion)) throw badRequest(`invalid resource version: ${requested}`);
    events = store.watch(
      { key: storageKey(type), namespace: type.namespaced ? target.namespace : undefined },
      fromVersion,
      signal,
    );
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 410) throw error;
    expired = error;
    fromVersion = 0;
  }
  async function* stream(): AsyncIterable<string> {
    if (expired) {
      yield line({ type: 'ERROR', object: expired.toStatus() });
      return;
    }
    for (const object of initial) yield line({ type: 'ADDED', object });
    if (sendInitial && bookmarks && isTrue(query.get('sendInitialEvents'))) {
      yield line({
        type: 'BOOKMARK',
        object: {
          kind: type.kind,
          apiVersion,
          metadata: {
            resourceVersion: String(fromVersion),
            annotations: { 'k8s.io/initial-events-end': 'true' },
          },
        },
      });
    }
    for await (const event of events!) {
      const object = asServed(type, event.object);
      const now = selected(object);
      const before = event.previous ? selected(asServed(type, event.previous)) : false;
      // As the watch cache does: leaving the filter reads as DELETED, entering it as ADDED.
      if (event.type === 'MODIFIED' && before !== now) {
        yield line({ type: now ? 'ADDED' : 'DELETED', object });
        continue;
      }
      if (!now) continue;
      yield line({ type: event.type, object });
    }
  }
  return { status: 200, headers: { 'content-type': 'application/json' }, stream: stream() };
}

// A manager for writes that name none: the user agent's program name, as the API server derives it.
function managerOf(request: EmulatedRequest): string {
  const named = request.url.searchParams.get('fieldManager');
  if (named) return named;
  const agent = request.headers['user-agent'] ?? 'unknown';
  return agent.split('/')[0]!.slice(0, 128) || 'unknown';
}

function checkKind(type: ResourceType, body: KubeObject): void {
  if (body.kind && body.kind !== type.kind) {
    throw badRequest(
      `the kind in the data (${String(body.kind)}) does not match the expected kind (${type.kind})`,
    );
  }
  if (body.apiVersion && body.apiVersion !== groupVersion(type)) {
    throw badRequest(
      `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${groupVersion(type)})`,
    );
  }
}

function checkName(body: KubeObject, name: string): void {
  const named = body.metadata?.name;
  if (named && named !== name) {
    throw badRequest(
      `the name of the object (${String(named)}) does not match the name on the URL (${name})`,
    );
  }
}

function parseBody(request: EmulatedRequest): KubeObject {
  // JSON, or protobuf for the built-in kinds: kubectl 1.32's typed clients send protobuf
  // and do not fall back to JSON.
  const type = request.headers['content-type'] ?? '';
  if (type.split(';')[0]!.trim() === protobufMediaType) return decodeProtobuf(request.body);
  if (/protobuf|cbor/.test(type)) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, ${protobufMediaType}`,
    );
  }
  try {
    const value: unknown = JSON.parse(request.body.toString() || 'null');
    if (!value || typeof value !== 'object') throw new Error('not an object');
    return value as KubeObject;
  } catch (error) {
    throw badRequest(`the object provided is unrecognized: ${(error as Error).message}`);
  }
}

// Apply bodies are YAML (JSON is YAML too): kubectl sends JSON, other clients YAML.
function parseYamlBody(request: EmulatedRequest): KubeObject {
  let value: unknown;
  const text = request.body.toString();
  try {
    value = jsonObject(text) ?? parseYaml(text);
  } catch (error) {
    throw badRequest(`error decoding YAML: ${(error as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw badRequest('the body of an apply request must be a single object');
  return value as KubeObject;
}

// A JSON object, parsed as JSON (a YAML parse of the same text gives the same value, slower);
// undefined when the text is not one.
function jsonObject(text: string): unknown {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function methodNotAllowed(method: string): ApiError {
  return new ApiError(
    405,
    'MethodNotAllowed',
    `the server does not allow this method on the requested resource (${method})`,
  );
}

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

function found(body: KubeObject | undefined): EmulatedResponse {
  if (!body) throw notFoundPath;
  return json(200, body);
}

function json(statusCode: number, body: KubeObject): EmulatedResponse {
  return { status: statusCode, headers: { 'content-type': 'application/json' }, body };
}

function status(error: ApiError): EmulatedResponse {
  return json(error.code, error.toStatus());
}

function optimisticConflict(type: ResourceType, name: string): ApiError {
  const qualified = type.group ? `${type.resource}.${type.group}` : type.resource;
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, ...(type.group ? { group: type.group } : {}), kind: type.resource },
  );
}

// The scale subresource (kubectl scale, autoscalers): an autoscaling/v1 Scale read from and
// written to spec.replicas; the writer's managedFields entry names the subresource.
function scale(
  context: RestContext,
  request: EmulatedRequest,
  target: ResourceRequest & { name: string },
  dryRun: boolean,
): EmulatedResponse {
  const { objects } = context;
  const { type, namespace, name } = target;
  const live = objects.get(type, namespace, name);
  const current = toScale(live);
  if (request.method === 'GET') return json(200, current);
  let next: KubeObject;
  if (request.method === 'PUT') next = parseBody(request);
  else if (request.method === 'PATCH') {
    const patchType = patchTypeOf(request.headers['content-type'] ?? '');
    const body = patchType === 'json' ? undefined : parseBody(request);
    next =
      patchType === 'json'
        ? jsonPatch(current, parseBody(request))
        : patchType === 'strategic'
          ? (strategicMergePatch(current, body) as KubeObject)
          : (mergePatch(current, body) as KubeObject);
  } else throw methodNotAllowed(request.method);
  const replicas = Number(next.spec?.replicas);
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new ApiError(
      422,
      'Invalid',
      `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${String(next.spec?.replicas)}: must be greater than or equal to 0`,
    );
  }
  const updated = objects.prepareUpdate(type, live, { ...live, spec: { ...live.spec, replicas } });
  const recorded = recordUpdate(live, updated, {
    manager: managerOf(request),
    apiVersion: groupVersion(type),
    subresource: 'scale',
  });
  return json(200, toScale(objects.update(type, recorded, { dryRun })));
}

function toScale(object: KubeObject): KubeObject {
  const matchLabels: Record<string, string> = object.spec?.selector?.matchLabels ?? {};
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
      creationTimestamp: object.metadata.creationTimestamp,
    },
    spec: { replicas: object.spec?.replicas ?? 0 },
    status: {
      replicas: object.status?.replicas ?? 0,
      selector: Object.entries(matchLabels)
        .map(([key, value]) => `${key}=${value}`)
        .join(','),
    },
  };
}

function verbOf(request: EmulatedRequest, target: ResourceRequest): string {
  const query = request.url.searchParams;
  switch (request.method) {
    case 'GET':
      if (target.name !== undefined) return 'get';
      return isTrue(query.get('watch')) ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return target.name === undefined ? 'deletecollection' : 'delete';
    default:
      return request.method.toLowerCase();
  }
}

// Worded as AKS's Azure RBAC authorizer answers (the API server's message plus its reason).
function forbidden(access: AccessRequest): ApiError {
  const qualified = access.group ? `${access.resource}.${access.group}` : access.resource;
  const subject = access.name !== undefined ? `${qualified} "${access.name}"` : qualified;
  const resource = access.subresource ? `${access.resource}/${access.subresource}` : access.resource;
  const scope = access.namespace ? `in the namespace "${access.namespace}"` : 'at the cluster scope';
  return new ApiError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${access.user}" cannot ${access.verb} resource "${resource}" in API group "${access.group}" ${scope}: ${deniedReason}`,
    {
      ...(access.name !== undefined ? { name: access.name } : {}),
      group: access.group,
      kind: access.resource,
    },
  );
}
