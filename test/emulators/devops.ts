import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { tokenExchangeAudience } from './entra';
import { nowSeconds, signJwt } from './jwt';
import type { EmulatedRequest, EmulatedResponse, Handler } from './types';

/** The location id azure-devops-node-api's TaskApi.createOidcToken asks the location service for. */
export const oidcTokenLocationId = '69a319f4-28c1-4bfd-93e6-ea0ff5c6f1a2';

/** A service connection the emulated project holds, named as its OIDC subject names it. */
export interface EmulatedServiceConnection {
  readonly id: string;
  readonly name: string;
}

/**
 * Azure DevOps as a pipeline job sees it for workload identity federation: the
 * distributedtask location lookup (OPTIONS) and the job's `oidctoken` endpoint, which
 * returns a short-lived JWT from this organisation's issuer for a service connection.
 * Only the job's SYSTEMVSSCONNECTION access token is accepted.
 */
export class EmulatedDevOps {
  /** Lifetime of issued OIDC tokens; negative issues tokens that are already expired. */
  oidcTokenLifetimeSeconds = 600;
  /** OIDC tokens issued so far. */
  oidcTokensIssued = 0;

  readonly organization: string;
  readonly organizationId = randomUUID();
  readonly projectId = randomUUID();
  readonly projectName: string;
  /** The bearer token the job's SYSTEMVSSCONNECTION endpoint carries. */
  readonly systemAccessToken = `system-${randomUUID()}`;
  /** The token issuer, as Entra's federated credentials name it. */
  readonly issuer: string;

  private readonly connections = new Map<string, EmulatedServiceConnection>();
  private readonly signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private readonly keyId = randomUUID();

  /** Transport-free handler for the `dev.*` host. */
  readonly handler: Handler = (request) => this.answer(request);

  constructor(organization = 'org', projectName = 'project') {
    this.organization = organization;
    this.projectName = projectName;
    this.issuer = `https://vstoken.dev.azure.test/${this.organizationId}`;
  }

  /** Public key Entra verifies this issuer's tokens with. */
  get publicKey(): KeyObject {
    return this.signingKey.publicKey;
  }

  /** Adds a service connection and returns the subject its OIDC tokens carry. */
  addServiceConnection(connection: EmulatedServiceConnection): string {
    this.connections.set(connection.id.toLowerCase(), connection);
    return this.subjectOf(connection);
  }

  /** `sc://<org>/<project>/<connection name>`, the subject Azure DevOps puts in its OIDC tokens. */
  subjectOf(connection: EmulatedServiceConnection): string {
    return `sc://${this.organization}/${this.projectName}/${connection.name}`;
  }

  private answer(request: EmulatedRequest): EmulatedResponse | undefined {
    const path = request.url.pathname;
    const prefix = `/${this.organization}`;
    if (!path.startsWith(`${prefix}/`)) return undefined;
    const rest = path.slice(prefix.length);

    // VsoClient.beginGetAreaLocations: OPTIONS <collection>/_apis/<area> lists the
    // area's resource locations, from which it builds the request URL.
    if (request.method === 'OPTIONS' && /^\/_apis\/distributedtask\/?$/i.test(rest)) {
      return { status: 200, body: { count: 1, value: [oidcTokenLocation()] } };
    }

    const oidc =
      /^\/([^/]+)\/_apis\/distributedtask\/hubs\/([^/]+)\/plans\/([^/]+)\/jobs\/([^/]+)\/oidctoken$/i.exec(
        rest,
      );
    if (!oidc || request.method !== 'POST') return undefined;
    if (request.headers.authorization !== `Bearer ${this.systemAccessToken}`) {
      return {
        status: 401,
        headers: { 'www-authenticate': 'Bearer authorization_uri=https://login.azure.test/' },
        body: { message: 'TF400813: The user is not authorized to access this resource.' },
      };
    }
    if (decodeURIComponent(oidc[1]!).toLowerCase() !== this.projectId) {
      return vssError(
        404,
        'ProjectDoesNotExistWithNameException',
        `TF200016: The following project does not exist: ${oidc[1]}.`,
      );
    }
    const connectionId = request.url.searchParams.get('serviceConnectionId') ?? '';
    const connection = this.connections.get(connectionId.toLowerCase());
    if (!connection) {
      return vssError(
        400,
        'InvalidServiceEndpointException',
        `Service connection '${connectionId}' could not be found, or the pipeline is not authorized to use it.`,
      );
    }
    const now = nowSeconds();
    const oidcToken = signJwt(
      {
        jti: randomUUID(),
        sub: this.subjectOf(connection),
        aud: tokenExchangeAudience,
        iss: this.issuer,
        nbf: Math.min(now, now + this.oidcTokenLifetimeSeconds),
        iat: now,
        exp: now + this.oidcTokenLifetimeSeconds,
      },
      this.signingKey.privateKey,
      { kid: this.keyId },
    );
    this.oidcTokensIssued += 1;
    return { status: 200, body: { oidcToken } };
  }
}

function oidcTokenLocation(): Record<string, unknown> {
  return {
    id: oidcTokenLocationId,
    area: 'distributedtask',
    resourceName: 'oidctoken',
    routeTemplate: '{scopeIdentifier}/_apis/{area}/hubs/{hubName}/plans/{planId}/jobs/{jobId}/{resource}',
    resourceVersion: 1,
    minVersion: '7.1',
    maxVersion: '7.2',
    releasedVersion: '0.0',
  };
}

function vssError(status: number, typeKey: string, message: string): EmulatedResponse {
  return {
    status,
    body: {
      $id: '1',
      innerException: null,
      message,
      typeName: `Microsoft.TeamFoundation.DistributedTask.WebApi.${typeKey}, Microsoft.TeamFoundation.DistributedTask.WebApi`,
      typeKey,
      errorCode: 0,
      eventId: 3000,
    },
  };
}
