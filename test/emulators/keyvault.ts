import { randomBytes } from 'node:crypto';
import type { EmulatedRequest, EmulatedResponse, Handler } from './types';

/**
 * Azure Key Vault's secrets data plane, as @azure/keyvault-secrets reaches it
 * (https://learn.microsoft.com/rest/api/keyvault/secrets): challenge sign-in, list with
 * `maxresults` and `nextLink` paging, get latest and get by version. Vault state and access
 * rules are plain data a test changes directly. Transport-free: the HTTPS front in
 * server.ts routes `<vault>.vault.azure.test` here and injects latency and faults.
 */

/** Who a bearer token belongs to, as the token issuer vouches. */
export interface VaultPrincipal {
  readonly appId: string;
  readonly objectId: string;
  readonly tenantId: string;
}

/** One version of a secret. */
export interface EmulatedSecretVersion {
  readonly version: string;
  readonly value: string;
  enabled: boolean;
  expires?: Date;
  notBefore?: Date;
  contentType?: string;
  readonly created: Date;
}

/** Options for a new secret version. */
export interface SecretOptions {
  readonly enabled?: boolean;
  readonly expires?: Date;
  readonly notBefore?: Date;
  readonly contentType?: string;
}

/** Which permission model a vault uses; each denies with its own error. */
export type PermissionModel = 'rbac' | 'accessPolicy';

/** The secrets data-plane permissions this emulator checks. */
export interface SecretPermissions {
  get: boolean;
  list: boolean;
}

/** One emulated vault: its secrets, permission model and firewall. */
export interface EmulatedVault {
  readonly name: string;
  readonly location: string;
  permissionModel: PermissionModel;
  /** What every signed-in caller of the vault's tenant may do. */
  readonly permissions: SecretPermissions;
  /** When set, every request is refused as coming from this address outside the vault's firewall. */
  firewallBlocks?: string;
  /** Adds a new version of `name` and returns its version id. */
  setSecret(name: string, value: string, options?: SecretOptions): string;
  /** The versions of `name`, oldest first (empty when it does not exist). */
  versions(name: string): EmulatedSecretVersion[];
  /** Requests answered so far (by path, after sign-in), for assertions. */
  readonly served: { list: number; get: number };
}

/** How the emulator checks tokens and what it tells clients in its challenge. */
export interface KeyVaultEmulatorOptions {
  /** The tenant the vaults belong to; the challenge names it. */
  readonly tenantId: string;
  /** Authority base, e.g. `https://login.azure.test:PORT`; the challenge's `authorization` is `<it>/<tenant>`. */
  readonly authorityUrl: string;
  /** Returns the principal a bearer token belongs to, or undefined when it is not valid for Key Vault. */
  readonly authorize: (bearerToken: string, audience: string) => VaultPrincipal | undefined;
}

/** The emulated Key Vault service: vaults by name and one handler for all of them. */
export interface KeyVaultEmulator {
  /** Resource (audience) of Key Vault tokens; its host is the suffix every vault host ends with. */
  readonly resource: string;
  /** Creates (or replaces) a vault reachable at `<name>.vault.azure.test`. */
  addVault(name: string, options?: { location?: string; permissionModel?: PermissionModel }): EmulatedVault;
  vault(name: string): EmulatedVault;
  readonly handler: Handler;
}

/** Host suffix of every emulated vault. */
export const vaultHostSuffix = 'vault.azure.test';

// Without maxresults the service answers pages of 25.
const defaultPageSize = 25;
// The service refuses pages above 25 for secrets (maxresults is "1 to 25").
const maxPageSize = 25;

/** Creates an empty emulated Key Vault service. */
export function createKeyVaultEmulator(options: KeyVaultEmulatorOptions): KeyVaultEmulator {
  const resource = `https://${vaultHostSuffix}`;
  const vaults = new Map<string, VaultState>();

  const handler: Handler = (request) => {
    const host = request.url.hostname.toLowerCase();
    if (!host.endsWith(`.${vaultHostSuffix}`)) return undefined;
    const vault = vaults.get(host.slice(0, -(vaultHostSuffix.length + 1)));
    // An unknown vault is not this handler's: the front answers 404 for an unknown host.
    if (!vault) return undefined;
    return answer(vault, request);
  };

  function answer(vault: VaultState, request: EmulatedRequest): EmulatedResponse {
    const challenge = {
      'www-authenticate': `Bearer authorization="${options.authorityUrl}/${options.tenantId}", resource="${resource}"`,
    };
    const bearer = /^Bearer (.+)$/i.exec(request.headers['authorization'] ?? '')?.[1];
    if (!bearer) {
      return {
        status: 401,
        headers: challenge,
        body: errorBody('Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.'),
      };
    }
    const principal = options.authorize(bearer, resource);
    if (!principal || principal.tenantId !== options.tenantId) {
      return {
        status: 401,
        headers: challenge,
        body: errorBody(
          'Unauthorized',
          'AKV10032: Invalid issuer. Expected one of the vault tenant issuers.',
        ),
      };
    }
    if (vault.firewallBlocks !== undefined) {
      return forbidden(
        `Client address is not authorized and caller is not a trusted service.\r\nClient address: ${vault.firewallBlocks}\r\nCaller: ${caller(principal)}\r\nVault: ${vault.name};location=${vault.location}`,
        'ForbiddenByFirewall',
      );
    }
    if (request.method !== 'GET') {
      return { status: 405, body: errorBody('BadParameter', `Method ${request.method} is not emulated.`) };
    }
    if (!request.url.searchParams.get('api-version')) {
      return { status: 400, body: errorBody('BadParameter', 'The api-version query parameter is missing.') };
    }
    const parts = request.url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'secrets' || parts.length > 3) {
      return { status: 404, body: errorBody('NotFound', `Unknown path ${request.url.pathname}.`) };
    }
    if (parts.length === 1) return list(vault, principal, request);
    return get(vault, principal, request, parts[1] ?? '', parts[2]);
  }

  function list(vault: VaultState, principal: VaultPrincipal, request: EmulatedRequest): EmulatedResponse {
    const denied = deny(vault, principal, 'list', '');
    if (denied) return denied;
    const rawSize = request.url.searchParams.get('maxresults');
    const pageSize = rawSize === null ? defaultPageSize : Number(rawSize);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > maxPageSize) {
      return {
        status: 400,
        body: errorBody('BadParameter', `The value of maxresults must be between 1 and ${maxPageSize}.`),
      };
    }
    const skip = decodeSkipToken(request.url.searchParams.get('$skiptoken'));
    const names = [...vault.secrets.keys()].sort();
    const page = names.slice(skip, skip + pageSize);
    vault.served.list += 1;
    const base = `${request.url.protocol}//${request.url.host}`;
    const value = page.map((key) => {
      const versions = vault.secrets.get(key) ?? [];
      const latest = versions[versions.length - 1] as StoredVersion;
      return {
        id: `${base}/secrets/${latest.name}`,
        attributes: attributes(latest),
        ...(latest.contentType ? { contentType: latest.contentType } : {}),
      };
    });
    const next = skip + pageSize;
    // Like the service, the next page's link carries an opaque $skiptoken and the page size.
    const nextLink =
      next < names.length
        ? `${base}/secrets?api-version=${request.url.searchParams.get('api-version')}&$skiptoken=${encodeSkipToken(next)}&maxresults=${pageSize}`
        : null;
    return { status: 200, body: { value, nextLink } };
  }

  function get(
    vault: VaultState,
    principal: VaultPrincipal,
    request: EmulatedRequest,
    name: string,
    version: string | undefined,
  ): EmulatedResponse {
    const denied = deny(vault, principal, 'get', name);
    if (denied) return denied;
    const versions = vault.secrets.get(name.toLowerCase()) ?? [];
    const found = version
      ? versions.find((each) => each.version === version.toLowerCase())
      : versions[versions.length - 1];
    if (!found) {
      const id = version ? `${name}/${version}` : name;
      return {
        status: 404,
        body: errorBody(
          'SecretNotFound',
          `A secret with (name/id) ${id} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
        ),
      };
    }
    if (!found.enabled) {
      return forbidden('Operation get is not allowed on a disabled secret.', 'SecretDisabled');
    }
    vault.served.get += 1;
    const base = `${request.url.protocol}//${request.url.host}`;
    return {
      status: 200,
      body: {
        value: found.value,
        id: `${base}/secrets/${found.name}/${found.version}`,
        attributes: attributes(found),
        ...(found.contentType ? { contentType: found.contentType } : {}),
      },
    };
  }

  return {
    resource,
    handler,
    addVault(name, vaultOptions = {}) {
      const state = newVault(name.toLowerCase(), vaultOptions.location ?? 'westeurope');
      state.permissionModel = vaultOptions.permissionModel ?? 'rbac';
      vaults.set(state.name, state);
      return state;
    },
    vault(name) {
      const found = vaults.get(name.toLowerCase());
      if (!found) throw new Error(`No emulated vault ${name}.`);
      return found;
    },
  };
}

interface StoredVersion extends EmulatedSecretVersion {
  readonly name: string;
}

interface VaultState extends EmulatedVault {
  readonly secrets: Map<string, StoredVersion[]>;
}

function newVault(name: string, location: string): VaultState {
  const secrets = new Map<string, StoredVersion[]>();
  return {
    name,
    location,
    permissionModel: 'rbac',
    permissions: { get: true, list: true },
    secrets,
    served: { list: 0, get: 0 },
    setSecret(secretName, value, secretOptions = {}) {
      const version = randomBytes(16).toString('hex');
      const key = secretName.toLowerCase();
      const stored: StoredVersion = {
        name: secrets.get(key)?.[0]?.name ?? secretName,
        version,
        value,
        enabled: secretOptions.enabled ?? true,
        expires: secretOptions.expires,
        notBefore: secretOptions.notBefore,
        contentType: secretOptions.contentType,
        created: new Date(),
      };
      secrets.set(key, [...(secrets.get(key) ?? []), stored]);
      return version;
    },
    versions(secretName) {
      return secrets.get(secretName.toLowerCase()) ?? [];
    },
  };
}

// Key Vault sends attribute times as Unix seconds.
function attributes(version: EmulatedSecretVersion): Record<string, unknown> {
  const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);
  return {
    enabled: version.enabled,
    ...(version.expires ? { exp: seconds(version.expires) } : {}),
    ...(version.notBefore ? { nbf: seconds(version.notBefore) } : {}),
    created: seconds(version.created),
    updated: seconds(version.created),
    recoveryLevel: 'Recoverable+Purgeable',
    recoverableDays: 90,
  };
}

function deny(
  vault: VaultState,
  principal: VaultPrincipal,
  permission: keyof SecretPermissions,
  secretName: string,
): EmulatedResponse | undefined {
  if (vault.permissions[permission]) return undefined;
  if (vault.permissionModel === 'accessPolicy') {
    return forbidden(
      `The user, group or application '${caller(principal)}' does not have secrets ${permission} permission on key vault '${vault.name};location=${vault.location}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
      'AccessDenied',
    );
  }
  // Azure RBAC names the data action it evaluated and the scope it evaluated it at.
  const action =
    permission === 'get'
      ? 'Microsoft.KeyVault/vaults/secrets/getSecret/action'
      : 'Microsoft.KeyVault/vaults/secrets/readMetadata/action';
  const scope = `/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/emulated/providers/microsoft.keyvault/vaults/${vault.name}${secretName ? `/secrets/${secretName}` : ''}`;
  return forbidden(
    `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: ${caller(principal)}\r\nAction: '${action}'\r\nResource: '${scope}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: ${vault.name};location=${vault.location}\r\n`,
    'ForbiddenByRbac',
  );
}

function caller(principal: VaultPrincipal): string {
  return `appid=${principal.appId};oid=${principal.objectId};iss=https://sts.windows.net/${principal.tenantId}/`;
}

function forbidden(message: string, innerCode: string): EmulatedResponse {
  return { status: 403, body: { error: { code: 'Forbidden', message, innererror: { code: innerCode } } } };
}

function errorBody(code: string, message: string): object {
  return { error: { code, message } };
}

// The service's skip tokens are opaque base64 JSON; clients only echo them back.
function encodeSkipToken(offset: number): string {
  return Buffer.from(JSON.stringify({ NextMarker: offset, TargetLocation: 0 })).toString('base64url');
}

function decodeSkipToken(token: string | null): number {
  if (!token) return 0;
  try {
    const offset = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { NextMarker?: unknown })
      .NextMarker;
    return typeof offset === 'number' && offset >= 0 ? offset : 0;
  } catch {
    return 0;
  }
}
