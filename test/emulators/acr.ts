import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TestCertificateAuthority } from './certificates';
import { decodeJwt, hasValidSignature, nowSeconds, signJwt } from './jwt';
import type { RegistryInstance } from './registry';
import type { EmulatedRequest, EmulatedResponse, Handler } from './types';

/** The subscription emulated registries live in unless told otherwise. */
export const defaultSubscriptionId = '3f2b1c0d-0000-4000-8000-00000000acr0';

/**
 * The Azure Container Registry front: what ACR adds on top of a plain OCI registry,
 * served over HTTPS at `<name>.azurecr.azure.test:<port>` in front of a real
 * `docker-registry` (registry.ts).
 *
 * - Sign-in: `/oauth2/exchange` turns an Entra access token into an ACR refresh token and
 *   `/oauth2/token` turns that into an access token for the scopes asked, cut down to what
 *   the principal's role allows (AcrPull, AcrPush, AcrDelete).
 * - `/v2/` requires a bearer access token whose scopes cover the repository and action,
 *   and answers 401 with a Bearer challenge otherwise, as ACR does.
 * - `/acr/v1/` serves the tag and manifest properties the task uses, including locks
 *   (writeEnabled / deleteEnabled false), which `/v2/` then enforces.
 * - The OCI 1.1 referrers API, when a registry is created with it: ACR has it, distribution
 *   2.8 does not, so a front without it plays a registry that needs the tag-schema fallback.
 * - Everything else is proxied to the registry, streamed both ways with no buffering.
 *
 * It is its own HTTPS server rather than a handler on the shared front (server.ts),
 * because that front reads whole bodies and blobs here run to hundreds of megabytes.
 * The auth and properties decisions are pure functions below the server.
 */

/** Roles that grant data-plane actions, as Azure's built-in roles do. */
export type AcrRole = 'AcrPull' | 'AcrPush' | 'AcrDelete';

/** Actions each role grants on every repository. */
export const roleActions: Readonly<Record<AcrRole, readonly string[]>> = {
  AcrPull: ['pull', 'metadata_read'],
  AcrPush: ['pull', 'push', 'metadata_read', 'metadata_write'],
  AcrDelete: ['delete', 'metadata_read'],
};

/** One emulated registry behind the front. */
export interface EmulatedRegistry {
  readonly name: string;
  /** `<name>.azurecr.azure.test:<port>`: what users type as the login server. */
  readonly loginServer: string;
  /** `https://<loginServer>`. */
  readonly url: string;
  readonly backend: RegistryInstance;
  readonly referrersApi: boolean;
  /** Its ARM resource id: `/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ContainerRegistry/registries/<name>`. */
  readonly resourceId: string;
  /** Traffic counters since the registry was added or last reset. */
  readonly stats: RegistryStats;
}

/** What moved through the front for one registry. */
export interface RegistryStats {
  requests: number;
  /** Blob bytes the registry served (GET /blobs/). */
  blobBytesServed: number;
  /** Blob bytes clients uploaded (PATCH/PUT /blobs/uploads/). */
  blobBytesReceived: number;
  /** Manifests written (PUT /manifests/). */
  manifestPuts: number;
}

/** One request as the front saw it. */
export interface AcrRequestLogEntry {
  readonly registry: string;
  readonly method: string;
  readonly path: string;
  /** The Range header, when the client asked for part of a blob. */
  readonly range?: string;
  status: number;
  fault?: AcrFault['kind'];
}

/** A fault the front applies instead of (or in the middle of) the registry's answer. */
export type AcrFault =
  | { readonly kind: 'throttle'; readonly retryAfterSeconds: number }
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'drop' }
  /** Sends the status and headers and `afterBytes` of the body, then cuts the connection. */
  | { readonly kind: 'dropMidBody'; readonly afterBytes: number };

/** Which requests a fault applies to. */
export interface AcrRequestInfo {
  readonly registry: string;
  readonly method: string;
  /** Path and query. */
  readonly path: string;
}

/** A fault for the next `times` matching requests. */
export interface AcrFaultRule {
  readonly match: (request: AcrRequestInfo) => boolean;
  readonly fault: AcrFault;
  readonly times: number;
}

/** How the front checks an Entra token; the Entra emulator's verifier in tests. */
export type AadTokenVerifier = (token: string) => Promise<{ readonly principalId: string } | undefined>;

/** Options for the front. */
export interface AcrFrontOptions {
  readonly ca: TestCertificateAuthority;
  readonly verifyAadToken: AadTokenVerifier;
  /** Lifetime of ACR refresh and access tokens; tests shorten it to prove refresh. */
  readonly tokenLifetimeSeconds?: number;
  /**
   * Checks a service principal's client id and secret, as ACR does for `docker login`
   * with a service principal; returns its object id. Without it only refresh tokens sign in.
   */
  readonly verifyServicePrincipal?: (clientId: string, secret: string) => string | undefined;
}

/** The running front. */
export interface AcrFront {
  readonly port: number;
  readonly requests: readonly AcrRequestLogEntry[];
  /** Puts a registry (usually a fresh `startRegistry()`) behind the front. */
  addRegistry(
    name: string,
    backend: RegistryInstance,
    options?: { referrersApi?: boolean; subscriptionId?: string; resourceGroup?: string },
  ): EmulatedRegistry;
  /** Gives a principal (its Entra object id) a role on a registry. */
  grant(registry: string, principalId: string, role: AcrRole): void;
  /** Takes every role away from a principal on a registry. */
  revoke(registry: string, principalId: string): void;
  /** An Authorization header value with every scope, for tests that seed content. */
  adminAuthorization(registry: string): string;
  /** Sets tag or manifest attributes directly, as a test's setup would through the portal. */
  setAttributes(
    registry: string,
    repository: string,
    reference: string,
    attributes: Partial<Attributes>,
  ): void;
  injectFault(rule: AcrFaultRule): void;
  clearFaults(): void;
  /** Runs before each request is handled (after faults): tests use it to act mid-copy. */
  onRequest(hook: ((request: AcrRequestInfo) => void | Promise<void>) | undefined): void;
  /**
   * The ARM side of the registries, for the shared front's `management.*` host: list by
   * subscription, and importImage as a long-running operation that really copies.
   * `verifyArmToken` returns the principal of a valid ARM token.
   */
  armHandler(verifyArmToken: (token: string) => string | undefined): Handler;
  /** Zeroes every registry's counters and empties the request log. */
  resetStats(): void;
  stop(): Promise<void>;
}

/** The changeable attributes of a tag or manifest. */
export interface Attributes {
  deleteEnabled: boolean;
  writeEnabled: boolean;
  readEnabled: boolean;
  listEnabled: boolean;
}

const defaultAttributes: Attributes = {
  deleteEnabled: true,
  writeEnabled: true,
  readEnabled: true,
  listEnabled: true,
};

const manifestAccept = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** A scope as the token service speaks it: `repository:<name>:<action>,<action>`. */
export interface Scope {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

/** Parses a space-separated scope list; the name may hold `/` but never `:`. */
export function parseScopes(text: string): Scope[] {
  return text
    .split(' ')
    .filter((part) => part.length > 0)
    .flatMap((part) => {
      const first = part.indexOf(':');
      const last = part.lastIndexOf(':');
      if (first < 0 || last <= first) return [];
      return [
        {
          type: part.slice(0, first),
          name: part.slice(first + 1, last),
          actions: part
            .slice(last + 1)
            .split(',')
            .filter((action) => action.length > 0),
        },
      ];
    });
}

/** Cuts requested scopes down to the actions the roles allow; `*` asks for everything. */
export function grantScopes(requested: readonly Scope[], roles: ReadonlySet<AcrRole>): Scope[] {
  const allowed = new Set([...roles].flatMap((role) => roleActions[role]));
  return requested
    .map((scope) => ({
      ...scope,
      actions: scope.actions.flatMap((action) =>
        action === '*' ? [...allowed] : allowed.has(action) ? [action] : [],
      ),
    }))
    .filter((scope) => scope.type === 'repository' && scope.actions.length > 0);
}

/** Whether granted scopes cover `action` on `repository`. */
export function covers(granted: readonly Scope[], repository: string, action: string): boolean {
  return granted.some(
    (scope) =>
      scope.type === 'repository' &&
      (scope.name === repository || scope.name === '*') &&
      (scope.actions.includes(action) || scope.actions.includes('*')),
  );
}

/** A `/v2/<repository>/<kind>/<rest>` path taken apart. */
export interface RegistryPath {
  readonly repository: string;
  readonly kind: 'manifests' | 'blobs' | 'tags' | 'referrers';
  readonly rest: string;
}

/** Takes a `/v2/` path apart; undefined for `/v2/` itself and `/v2/_catalog`. */
export function parseRegistryPath(pathname: string): RegistryPath | undefined {
  const match = /^\/v2\/(.+?)\/(manifests|blobs|tags|referrers)\/(.*)$/.exec(pathname);
  if (!match) return undefined;
  return { repository: match[1]!, kind: match[2] as RegistryPath['kind'], rest: match[3]! };
}

/** The action a request needs: reads pull, deletes delete, every other write push. */
export function requiredAction(method: string): 'pull' | 'push' | 'delete' {
  if (method === 'GET' || method === 'HEAD') return 'pull';
  return method === 'DELETE' ? 'delete' : 'push';
}

/** The challenge ACR sends with a 401, naming the scope the client should ask for. */
export function challengeHeader(loginServer: string, scope?: string): string {
  const host = loginServer.replace(/:\d+$/, '');
  return `Bearer realm="https://${loginServer}/oauth2/token",service="${host}"${scope ? `,scope="${scope}"` : ''}`;
}

/** An error body in the distribution / ACR shape. */
export function registryError(code: string, message: string, detail?: unknown): string {
  return JSON.stringify({ errors: [{ code, message, ...(detail !== undefined ? { detail } : {}) }] });
}

interface RegistryState {
  readonly registry: EmulatedRegistry;
  readonly roles: Map<string, Set<AcrRole>>;
  /** `repo:tag` or `repo@digest` → attributes. */
  readonly attributes: Map<string, Attributes>;
  /** `repo@subjectDigest` → referrer descriptors (OCI 1.1 referrers API). */
  readonly referrers: Map<string, Record<string, unknown>[]>;
}

/** Starts the front on 127.0.0.1, on an ephemeral port, with the CA's server certificate. */
export async function startAcrFront(options: AcrFrontOptions): Promise<AcrFront> {
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const registries = new Map<string, RegistryState>();
  const requests: AcrRequestLogEntry[] = [];
  const faults: { rule: AcrFaultRule; remaining: number }[] = [];
  let hook: ((request: AcrRequestInfo) => void | Promise<void>) | undefined;
  const backendAgent = new https.Agent({ keepAlive: true, ca: options.ca.caPem, maxSockets: 64 });
  const sockets = new Set<Socket>();
  let port = 0;

  const server = https.createServer(
    { cert: options.ca.server.certPem, key: options.ca.server.keyPem, keepAlive: true },
    (req, res) => {
      void handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(registryError('UNKNOWN', (error as Error).message));
        } else res.destroy();
      });
    },
  );
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const name = /^([a-z0-9]+)\.azurecr\.azure\.test$/.exec(host)?.[1];
    const state = name ? registries.get(name) : undefined;
    const url = new URL(req.url ?? '/', `https://${host}`);
    const method = req.method ?? 'GET';
    const entry: AcrRequestLogEntry = {
      registry: name ?? host,
      method,
      path: url.pathname + url.search,
      ...(req.headers.range ? { range: req.headers.range } : {}),
      status: 0,
    };
    requests.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    if (!state) {
      // ACR answers an unknown registry name with a DNS failure; on loopback the closest
      // honest answer is a 404 that is not a registry's.
      return send(res, 404, { 'content-type': 'text/plain' }, `no registry named ${host}`);
    }
    state.registry.stats.requests++;
    const info: AcrRequestInfo = { registry: state.registry.name, method, path: entry.path };
    const fault = takeFault(info);
    if (fault) {
      entry.fault = fault.kind;
      if (fault.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'throttle') {
        req.resume();
        return send(
          res,
          429,
          { 'retry-after': String(fault.retryAfterSeconds), 'content-type': 'application/json' },
          registryError('TOOMANYREQUESTS', 'Too many requests.'),
        );
      }
      if (fault.kind === 'status') {
        req.resume();
        return send(
          res,
          fault.status,
          { 'content-type': 'application/json' },
          registryError('UNAVAILABLE', 'Injected.'),
        );
      }
    }
    if (hook) await hook(info);

    if (url.pathname === '/oauth2/exchange' && method === 'POST') return exchange(state, req, res);
    if (url.pathname === '/oauth2/token') return token(state, req, res, url);
    if (url.pathname.startsWith('/acr/v1/')) return properties(state, req, res, url);
    if (url.pathname.startsWith('/v2/')) {
      return registryRequest(
        state,
        req,
        res,
        url,
        fault?.kind === 'dropMidBody' ? fault.afterBytes : undefined,
      );
    }
    req.resume();
    send(res, 404, { 'content-type': 'application/json' }, registryError('NOT_FOUND', 'Not found.'));
  }

  function takeFault(info: AcrRequestInfo): AcrFault | undefined {
    const pending = faults.find((each) => each.remaining > 0 && each.rule.match(info));
    if (!pending) return undefined;
    pending.remaining--;
    return pending.rule.fault;
  }

  async function exchange(
    state: RegistryState,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const form = new URLSearchParams((await readBody(req)).toString());
    const service = form.get('service');
    const aadToken = form.get('access_token');
    if (form.get('grant_type') !== 'access_token' || !aadToken) {
      return sendJson(res, 400, {
        error: 'unsupported_grant_type',
        error_description: 'grant_type must be access_token',
      });
    }
    if (service !== hostOf(state.registry.loginServer)) {
      return sendJson(res, 400, {
        error: 'invalid_request',
        error_description: `unknown service ${service}`,
      });
    }
    const principal = await options.verifyAadToken(aadToken);
    if (!principal)
      return sendJson(res, 401, {
        error: 'invalid_token',
        error_description: 'the access token is not valid',
      });
    const refreshToken = signJwt(
      {
        typ: 'refresh',
        sub: principal.principalId,
        aud: service,
        jti: randomUUID(),
        exp: nowSeconds() + lifetime,
      },
      privateKey,
    );
    sendJson(res, 200, { refresh_token: refreshToken });
  }

  async function token(
    state: RegistryState,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
  ): Promise<void> {
    // The SDK POSTs a form; docker-style clients (skopeo) GET with Basic auth whose password
    // is the refresh token. ACR takes both.
    const form =
      req.method === 'POST'
        ? new URLSearchParams((await readBody(req)).toString())
        : (req.resume(), url.searchParams);
    let refresh = form.get('refresh_token') ?? undefined;
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const [user = '', ...password] = basic ? Buffer.from(basic, 'base64').toString().split(':') : [];
    if (!refresh && basic) refresh = password.join(':');
    let claims = refresh ? verifyOwnToken(refresh, 'refresh') : undefined;
    // docker login with a service principal: its client id and secret, checked with Entra ID.
    const principal =
      !claims && basic ? options.verifyServicePrincipal?.(user, password.join(':')) : undefined;
    if (principal) claims = { sub: principal, aud: hostOf(state.registry.loginServer) };
    if (!claims || claims.aud !== hostOf(state.registry.loginServer)) {
      return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid refresh token' }] });
    }
    const requested = parseScopes(form.getAll('scope').join(' '));
    const roles = state.roles.get(String(claims.sub)) ?? new Set<AcrRole>();
    const access = grantScopes(requested, roles);
    const accessToken = signJwt(
      { typ: 'access', sub: claims.sub, aud: claims.aud, access, exp: nowSeconds() + lifetime },
      privateKey,
    );
    sendJson(res, 200, { access_token: accessToken, token: accessToken, expires_in: lifetime });
  }

  function verifyOwnToken(token: string, typ: string): Record<string, unknown> | undefined {
    const jwt = decodeJwt(token);
    if (!jwt || !hasValidSignature(jwt, publicKey as KeyObject)) return undefined;
    if (jwt.payload.typ !== typ || Number(jwt.payload.exp) <= nowSeconds()) return undefined;
    return jwt.payload;
  }

  function grantedScopes(state: RegistryState, req: http.IncomingMessage): Scope[] | undefined {
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const claims = bearer ? verifyOwnToken(bearer, 'access') : undefined;
    if (!claims || claims.aud !== hostOf(state.registry.loginServer)) return undefined;
    return (claims.access as Scope[]) ?? [];
  }

  async function registryRequest(
    state: RegistryState,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    dropAfterBytes: number | undefined,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const loginServer = state.registry.loginServer;
    const granted = grantedScopes(state, req);
    const parsed = parseRegistryPath(url.pathname);
    if (!granted) {
      req.resume();
      const scope = parsed ? `repository:${parsed.repository}:${requiredAction(method)}` : undefined;
      return send(
        res,
        401,
        { 'www-authenticate': challengeHeader(loginServer, scope), 'content-type': 'application/json' },
        registryError('UNAUTHORIZED', 'authentication required'),
      );
    }
    if (parsed) {
      const action = requiredAction(method);
      if (!covers(granted, parsed.repository, action)) {
        req.resume();
        const scope = `repository:${parsed.repository}:${action}`;
        return send(
          res,
          401,
          {
            'www-authenticate': `${challengeHeader(loginServer, scope)},error="insufficient_scope"`,
            'content-type': 'application/json',
          },
          registryError('UNAUTHORIZED', 'authentication required', [
            { Type: 'repository', Name: parsed.repository, Action: action },
          ]),
        );
      }
      if (parsed.kind === 'blobs' && method === 'POST' && url.searchParams.has('mount')) {
        // A mount from a repository the caller cannot read is not refused: like ACR and
        // distribution, the front starts a plain upload instead (202).
        const from = url.searchParams.get('from') ?? '';
        if (!covers(granted, from, 'pull')) {
          url.searchParams.delete('mount');
          url.searchParams.delete('from');
        }
      }
      if (parsed.kind === 'manifests' && (method === 'PUT' || method === 'DELETE')) {
        const locked = await lockedReference(state, parsed, method);
        if (locked) {
          req.resume();
          return send(
            res,
            405,
            { 'content-type': 'application/json' },
            registryError(
              'DENIED',
              `The operation is disallowed on this registry, repository or manifest: ${locked}.`,
            ),
          );
        }
      }
      if (parsed.kind === 'referrers' && state.registry.referrersApi) {
        req.resume();
        return referrersAnswer(state, parsed, url, res);
      }
      if (parsed.kind === 'manifests' && method === 'PUT') {
        const body = await readBody(req);
        state.registry.stats.manifestPuts++;
        const answer = await forwardBuffered(state, req, url, body);
        if (answer.status === 201) recordReferrer(state, parsed.repository, body, answer.headers);
        const headers = { ...answer.headers };
        if (state.registry.referrersApi && subjectOf(body)) headers['oci-subject'] = subjectOf(body)!.digest;
        return send(res, answer.status, headers, answer.body);
      }
    }
    const countAs =
      parsed?.kind === 'blobs'
        ? method === 'GET'
          ? 'served'
          : method === 'HEAD'
            ? undefined
            : 'received'
        : undefined;
    proxy(state, req, res, url, countAs, dropAfterBytes);
  }

  async function lockedReference(
    state: RegistryState,
    path: RegistryPath,
    method: string,
  ): Promise<string | undefined> {
    const key = path.rest.startsWith('sha256:')
      ? `${path.repository}@${path.rest}`
      : `${path.repository}:${path.rest}`;
    const attributes = state.attributes.get(key);
    const allowed = method === 'PUT' ? attributes?.writeEnabled : attributes?.deleteEnabled;
    if (allowed === false) return key;
    if (method === 'DELETE' && !path.rest.startsWith('sha256:')) {
      const digest = (await headManifest(state, path.repository, path.rest))?.digest;
      const manifest = digest ? state.attributes.get(`${path.repository}@${digest}`) : undefined;
      if (manifest?.deleteEnabled === false) return `${path.repository}@${digest}`;
    }
    return undefined;
  }

  function recordReferrer(
    state: RegistryState,
    repository: string,
    body: Buffer,
    headers: Record<string, string>,
  ): void {
    const subject = subjectOf(body);
    if (!subject) return;
    const manifest = JSON.parse(body.toString()) as Record<string, unknown>;
    const config = manifest.config as { mediaType?: string } | undefined;
    const key = `${repository}@${subject.digest}`;
    const digest = headers['docker-content-digest'];
    const list = (state.referrers.get(key) ?? []).filter((each) => each.digest !== digest);
    list.push({
      mediaType: manifest.mediaType,
      digest,
      size: body.length,
      artifactType: manifest.artifactType ?? config?.mediaType,
      ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
    });
    state.referrers.set(key, list);
  }

  function referrersAnswer(
    state: RegistryState,
    path: RegistryPath,
    url: URL,
    res: http.ServerResponse,
  ): void {
    const artifactType = url.searchParams.get('artifactType');
    const all = state.referrers.get(`${path.repository}@${path.rest}`) ?? [];
    const manifests = artifactType ? all.filter((each) => each.artifactType === artifactType) : all;
    const headers: Record<string, string> = { 'content-type': 'application/vnd.oci.image.index.v1+json' };
    if (artifactType) headers['oci-filters-applied'] = 'artifactType';
    send(
      res,
      200,
      headers,
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }),
    );
  }

  async function properties(
    state: RegistryState,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const match = /^\/acr\/v1\/(.+?)\/(_tags|_manifests)\/([^/]+)$/.exec(url.pathname);
    const granted = grantedScopes(state, req);
    const repository = match ? decodeURIComponent(match[1]!) : '';
    const action = method === 'GET' ? 'metadata_read' : 'metadata_write';
    if (!granted || !covers(granted, repository, action)) {
      req.resume();
      return send(
        res,
        401,
        {
          'www-authenticate': challengeHeader(
            state.registry.loginServer,
            `repository:${repository}:${action}`,
          ),
          'content-type': 'application/json',
        },
        registryError('UNAUTHORIZED', 'authentication required'),
      );
    }
    if (!match || (method !== 'GET' && method !== 'PATCH')) {
      req.resume();
      return sendJson(res, 404, JSON.parse(registryError('NOT_FOUND', 'Not found.')));
    }
    const reference = decodeURIComponent(match[3]!);
    const head = await headManifest(state, repository, reference);
    if (!head) {
      req.resume();
      const code = match[2] === '_tags' ? 'TAG_UNKNOWN' : 'MANIFEST_UNKNOWN';
      return sendJson(res, 404, JSON.parse(registryError(code, `${repository}:${reference} is not found.`)));
    }
    const key = match[2] === '_tags' ? `${repository}:${reference}` : `${repository}@${head.digest}`;
    const current = { ...defaultAttributes, ...state.attributes.get(key) };
    if (method === 'PATCH') {
      const change = JSON.parse((await readBody(req)).toString() || '{}') as Partial<Attributes>;
      for (const field of Object.keys(defaultAttributes) as (keyof Attributes)[]) {
        if (typeof change[field] === 'boolean') current[field] = change[field];
      }
      state.attributes.set(key, current);
    } else req.resume();
    const now = new Date().toISOString();
    const common = { createdTime: now, lastUpdateTime: now, changeableAttributes: current };
    sendJson(
      res,
      200,
      match[2] === '_tags'
        ? {
            registry: hostOf(state.registry.loginServer),
            imageName: repository,
            tag: { name: reference, digest: head.digest, ...common },
          }
        : {
            registry: hostOf(state.registry.loginServer),
            imageName: repository,
            manifest: {
              digest: head.digest,
              imageSize: head.size,
              mediaType: head.mediaType,
              tags: [],
              ...common,
            },
          },
    );
  }

  function headManifest(
    state: RegistryState,
    repository: string,
    reference: string,
  ): Promise<{ digest: string; size: number; mediaType: string } | undefined> {
    return new Promise((resolve, reject) => {
      const upstream = https.request(
        `${state.registry.backend.url}/v2/${repository}/manifests/${reference}`,
        { method: 'HEAD', agent: backendAgent, headers: { accept: manifestAccept } },
        (answer) => {
          answer.resume();
          if (answer.statusCode !== 200) return resolve(undefined);
          resolve({
            digest: String(answer.headers['docker-content-digest']),
            size: Number(answer.headers['content-length']),
            mediaType: String(answer.headers['content-type']),
          });
        },
      );
      upstream.on('error', reject);
      upstream.end();
    });
  }

  function forwardBuffered(
    state: RegistryState,
    req: http.IncomingMessage,
    url: URL,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const upstream = https.request(
        state.registry.backend.url + url.pathname + url.search,
        {
          method: req.method,
          agent: backendAgent,
          headers: { ...upstreamHeaders(req.headers), 'content-length': String(body.length) },
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () =>
            resolve({
              status: answer.statusCode ?? 502,
              headers: downstreamHeaders(answer.headers),
              body: Buffer.concat(chunks),
            }),
          );
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  function proxy(
    state: RegistryState,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    countAs: 'served' | 'received' | undefined,
    dropAfterBytes: number | undefined,
  ): void {
    const stats = state.registry.stats;
    const upstream = https.request(
      state.registry.backend.url + url.pathname + url.search,
      { method: req.method, agent: backendAgent, headers: upstreamHeaders(req.headers) },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, downstreamHeaders(answer.headers));
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (dropAfterBytes !== undefined && sent + chunk.length >= dropAfterBytes) {
            const part = chunk.subarray(0, Math.max(0, dropAfterBytes - sent));
            if (countAs === 'served') stats.blobBytesServed += part.length;
            res.write(part, () => res.destroy());
            answer.destroy();
            return;
          }
          sent += chunk.length;
          if (countAs === 'served') stats.blobBytesServed += chunk.length;
          if (!res.write(chunk)) {
            answer.pause();
            res.once('drain', () => answer.resume());
          }
        });
        answer.on('end', () => res.end());
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent)
        send(
          res,
          502,
          { 'content-type': 'application/json' },
          registryError('UNAVAILABLE', 'registry unreachable'),
        );
      else res.destroy();
    });
    req.on('data', (chunk: Buffer) => {
      if (countAs === 'received') stats.blobBytesReceived += chunk.length;
    });
    req.on('aborted', () => upstream.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  // ARM importImage: a server-side copy of the image graph (no referrers: ACR's import drops
  // them), run in the background and reported through Azure-AsyncOperation polling.
  const operations = new Map<
    string,
    { status: 'InProgress' | 'Succeeded' | 'Failed'; error?: { code: string; message: string } }
  >();

  function armHandler(verifyArmToken: (token: string) => string | undefined): Handler {
    return (request: EmulatedRequest): EmulatedResponse | undefined => {
      const path = request.url.pathname;
      const list = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries$/i.exec(
        path,
      );
      const importPath =
        /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)\/importImage$/i.exec(
          path,
        );
      const operation =
        /^\/providers\/Microsoft\.ContainerRegistry\/importOperations\/([^/]+)\/(status|result)$/i.exec(path);
      if (!list && !importPath && !operation) return undefined;
      const principal = verifyArmToken(/^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '');
      if (!principal) return armError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
      if (list && request.method === 'GET') {
        const value = [...registries.values()]
          .filter(({ registry }) =>
            registry.resourceId.toLowerCase().startsWith(`/subscriptions/${list[1]!.toLowerCase()}/`),
          )
          .map(({ registry }) => ({
            id: registry.resourceId,
            name: registry.name,
            type: 'Microsoft.ContainerRegistry/registries',
            location: 'westeurope',
            sku: { name: 'Premium', tier: 'Premium' },
            properties: { loginServer: registry.loginServer, provisioningState: 'Succeeded' },
          }));
        return { status: 200, body: { value } };
      }
      if (operation && request.method === 'GET') {
        const state = operations.get(operation[1]!);
        if (!state) return armError(404, 'NotFound', 'No such operation.');
        if (operation[2] === 'status') return { status: 200, body: state };
        return state.status === 'InProgress'
          ? { status: 202, headers: { 'retry-after': '0' } }
          : { status: 200, body: {} };
      }
      if (importPath && request.method === 'POST') {
        const target = [...registries.values()].find(
          ({ registry }) =>
            registry.resourceId.toLowerCase() === path.replace(/\/importImage$/i, '').toLowerCase(),
        );
        if (!target) return armError(404, 'ResourceNotFound', `The registry ${importPath[3]} was not found.`);
        const body = JSON.parse(request.body.toString() || '{}') as {
          source?: { resourceId?: string; registryUri?: string; sourceImage?: string };
          targetTags?: string[];
          mode?: string;
        };
        const source = [...registries.values()].find(
          ({ registry }) =>
            registry.resourceId.toLowerCase() === body.source?.resourceId?.toLowerCase() ||
            registry.loginServer === body.source?.registryUri,
        );
        if (!source || !body.source?.sourceImage) {
          return armError(
            400,
            'InvalidParameter',
            'source.resourceId or source.registryUri must name a registry.',
          );
        }
        const roles = (state: RegistryState) =>
          [...(state.roles.get(principal) ?? [])].flatMap((role) => roleActions[role]);
        if (!roles(target).includes('push') || !roles(source).includes('pull')) {
          return armError(
            403,
            'AuthorizationFailed',
            `The client '${principal}' may not import into ${target.registry.name}.`,
          );
        }
        const id = randomUUID();
        operations.set(id, { status: 'InProgress' });
        const imported = importImage(
          source,
          body.source.sourceImage,
          target,
          body.targetTags ?? [],
          body.mode !== 'Force',
        );
        imported.then(
          () => operations.set(id, { status: 'Succeeded' }),
          (error: Error & { code?: string }) =>
            operations.set(id, {
              status: 'Failed',
              error: { code: error.code ?? 'ImportFailed', message: error.message },
            }),
        );
        const base = `${request.url.origin}/providers/Microsoft.ContainerRegistry/importOperations/${id}`;
        return {
          status: 202,
          headers: {
            location: `${base}/result`,
            'azure-asyncoperation': `${base}/status`,
            'retry-after': '0',
          },
        };
      }
      return armError(405, 'MethodNotAllowed', `${request.method} is not supported here.`);
    };
  }

  async function importImage(
    source: RegistryState,
    sourceImage: string,
    target: RegistryState,
    targetTags: readonly string[],
    noForce: boolean,
  ): Promise<void> {
    const at = sourceImage.indexOf('@');
    const colon = sourceImage.lastIndexOf(':');
    const repository = at >= 0 ? sourceImage.slice(0, at) : sourceImage.slice(0, colon);
    const reference = at >= 0 ? sourceImage.slice(at + 1) : sourceImage.slice(colon + 1);
    const tags = targetTags.map((each) => ({
      repository: each.slice(0, each.lastIndexOf(':')),
      tag: each.slice(each.lastIndexOf(':') + 1),
    }));
    const root = await backendCall(
      source.registry.backend,
      'GET',
      `/v2/${repository}/manifests/${reference}`,
      {
        accept: manifestAccept,
      },
    );
    if (root.status !== 200)
      throw Object.assign(new Error(`${sourceImage} was not found.`), { code: 'NotFound' });
    const digest = String(root.headers['docker-content-digest']);
    if (noForce) {
      for (const { repository: targetRepository, tag } of tags) {
        const existing = await headManifest(target, targetRepository, tag);
        if (existing && existing.digest !== digest) {
          throw Object.assign(new Error(`The tag ${targetRepository}:${tag} already exists.`), {
            code: 'Conflict',
          });
        }
      }
    }
    for (const { repository: targetRepository } of tags) {
      await copyManifest(source, repository, digest, target, targetRepository);
    }
    for (const { repository: targetRepository, tag } of tags) {
      const put = await backendCall(
        target.registry.backend,
        'PUT',
        `/v2/${targetRepository}/manifests/${tag}`,
        {
          'content-type': String(root.headers['content-type']),
        },
        root.body,
      );
      if (put.status !== 201)
        throw Object.assign(new Error(`tagging ${tag} failed: ${put.status}`), { code: 'ImportFailed' });
    }
  }

  // Children before their index, blobs before their manifest, like any careful client.
  async function copyManifest(
    source: RegistryState,
    sourceRepository: string,
    digest: string,
    target: RegistryState,
    targetRepository: string,
  ): Promise<void> {
    const manifest = await backendCall(
      source.registry.backend,
      'GET',
      `/v2/${sourceRepository}/manifests/${digest}`,
      {
        accept: manifestAccept,
      },
    );
    const body = JSON.parse(manifest.body.toString()) as {
      manifests?: { digest: string }[];
      config?: { digest: string };
      layers?: { digest: string }[];
    };
    for (const child of body.manifests ?? [])
      await copyManifest(source, sourceRepository, child.digest, target, targetRepository);
    for (const blobDigest of [
      ...(body.config ? [body.config.digest] : []),
      ...(body.layers ?? []).map((l) => l.digest),
    ]) {
      const present = await backendCall(
        target.registry.backend,
        'HEAD',
        `/v2/${targetRepository}/blobs/${blobDigest}`,
      );
      if (present.status === 200) continue;
      const content = await backendCall(
        source.registry.backend,
        'GET',
        `/v2/${sourceRepository}/blobs/${blobDigest}`,
      );
      const started = await backendCall(
        target.registry.backend,
        'POST',
        `/v2/${targetRepository}/blobs/uploads/`,
      );
      const location = new URL(String(started.headers.location), target.registry.backend.url);
      location.searchParams.set('digest', blobDigest);
      await backendCall(
        target.registry.backend,
        'PUT',
        location.pathname + location.search,
        {
          'content-type': 'application/octet-stream',
        },
        content.body,
      );
    }
    await backendCall(
      target.registry.backend,
      'PUT',
      `/v2/${targetRepository}/manifests/${digest}`,
      {
        'content-type': String(manifest.headers['content-type']),
      },
      manifest.body,
    );
  }

  // The emulator's own copy reads whole blobs: test images are small, and this path is
  // the emulated service, not the task.
  function backendCall(
    backend: RegistryInstance,
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: Buffer,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const upstream = https.request(
        backend.url + path,
        {
          method,
          agent: backendAgent,
          headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () =>
            resolve({ status: answer.statusCode ?? 0, headers: answer.headers, body: Buffer.concat(chunks) }),
          );
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  return {
    port,
    requests,
    addRegistry(name, backend, registryOptions = {}) {
      const loginServer = `${name}.azurecr.azure.test:${port}`;
      const registry: EmulatedRegistry = {
        name,
        loginServer,
        url: `https://${loginServer}`,
        backend,
        referrersApi: registryOptions.referrersApi ?? true,
        resourceId:
          `/subscriptions/${registryOptions.subscriptionId ?? defaultSubscriptionId}` +
          `/resourceGroups/${registryOptions.resourceGroup ?? 'registries'}` +
          `/providers/Microsoft.ContainerRegistry/registries/${name}`,
        stats: { requests: 0, blobBytesServed: 0, blobBytesReceived: 0, manifestPuts: 0 },
      };
      registries.set(name, { registry, roles: new Map(), attributes: new Map(), referrers: new Map() });
      return registry;
    },
    grant(registry, principalId, role) {
      const state = mustGet(registries, registry);
      const roles = state.roles.get(principalId) ?? new Set<AcrRole>();
      roles.add(role);
      state.roles.set(principalId, roles);
    },
    revoke(registry, principalId) {
      mustGet(registries, registry).roles.delete(principalId);
    },
    adminAuthorization(registry) {
      const state = mustGet(registries, registry);
      const access = [{ type: 'repository', name: '*', actions: ['*'] }];
      const aud = hostOf(state.registry.loginServer);
      return `Bearer ${signJwt({ typ: 'access', sub: 'admin', aud, access, exp: nowSeconds() + 86_400 }, privateKey)}`;
    },
    setAttributes(registry, repository, reference, attributes) {
      const state = mustGet(registries, registry);
      const key = reference.startsWith('sha256:')
        ? `${repository}@${reference}`
        : `${repository}:${reference}`;
      state.attributes.set(key, { ...defaultAttributes, ...state.attributes.get(key), ...attributes });
    },
    injectFault(rule) {
      faults.push({ rule, remaining: rule.times });
    },
    clearFaults() {
      faults.length = 0;
    },
    onRequest(next) {
      hook = next;
    },
    armHandler,
    resetStats() {
      requests.length = 0;
      for (const { registry } of registries.values()) {
        Object.assign(registry.stats, {
          requests: 0,
          blobBytesServed: 0,
          blobBytesReceived: 0,
          manifestPuts: 0,
        });
      }
    },
    async stop() {
      backendAgent.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The subject descriptor of a manifest, if it has one. */
function subjectOf(body: Buffer): { digest: string } | undefined {
  try {
    const subject = (JSON.parse(body.toString()) as { subject?: { digest?: string } }).subject;
    return subject?.digest ? { digest: subject.digest } : undefined;
  } catch {
    return undefined;
  }
}

function armError(status: number, code: string, message: string): EmulatedResponse {
  return { status, body: { error: { code, message } } };
}

function hostOf(loginServer: string): string {
  return loginServer.replace(/:\d+$/, '');
}

function mustGet(registries: Map<string, RegistryState>, name: string): RegistryState {
  const state = registries.get(name);
  if (!state) throw new Error(`no emulated registry named ${name}`);
  return state;
}

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
]);

function upstreamHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || hopByHop.has(name) || name === 'host' || name === 'authorization') continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function downstreamHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || hopByHop.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(
  res: http.ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Buffer,
): void {
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  send(res, status, { 'content-type': 'application/json' }, JSON.stringify(body));
}
