import { createHash, generateKeyPairSync, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { decodeJwt, hasValidSignature, nowSeconds, signJwt, type DecodedJwt } from './jwt';
import type { EmulatedRequest, EmulatedResponse, Handler } from './types';

/** The audience Entra requires of every federated (workload identity) assertion. */
export const tokenExchangeAudience = 'api://AzureADTokenExchange';

/** A client secret, optionally with an end date. */
export interface ClientSecret {
  readonly value: string;
  readonly expiresAt?: Date;
}

/** Trust in an outside issuer's token for one subject, as an app's federated identity credential. */
export interface FederatedCredential {
  readonly issuer: string;
  readonly subject: string;
  readonly audiences?: readonly string[];
}

/** An app registration (its service principal is implied) with its credentials. */
export interface AppRegistration {
  readonly clientId: string;
  /** The service principal's object id; a fresh one when omitted. */
  readonly objectId?: string;
  readonly secrets?: readonly (string | ClientSecret)[];
  /** Public certificates (PEM) registered on the app. */
  readonly certificates?: readonly string[];
  readonly federatedCredentials?: readonly FederatedCredential[];
}

/** A managed identity: user-assigned ones have their own client id; a system-assigned one too, implicitly. */
export interface ManagedIdentity {
  readonly tenantId: string;
  readonly clientId: string;
  readonly objectId: string;
}

/** Who a verified access token was issued to. */
export interface TokenPrincipal {
  readonly tenantId: string;
  readonly objectId: string;
  readonly appId: string;
  readonly audience: string;
  readonly expiresOn: number;
}

/** What a caller asks Entra to put in an access token. */
export interface AccessTokenRequest {
  readonly tenantId: string;
  readonly resource: string;
  readonly objectId: string;
  readonly appId: string;
}

interface Tenant {
  readonly apps: Map<string, Required<Pick<AppRegistration, 'clientId' | 'objectId'>> & AppRegistration>;
}

/**
 * Microsoft Entra ID as the SDKs see it at `login.<cloud>`: OpenID metadata, signing
 * keys, and the v2.0 token endpoint for client credentials (secret, certificate
 * assertion, federated assertion). Error bodies carry Entra's real AADSTS codes.
 * Access tokens are RS256 JWTs other emulators check with `verifyAccessToken`.
 */
export class EmulatedEntra {
  /** Lifetime of issued access tokens; tests shorten it to force refreshes. */
  accessTokenLifetimeSeconds = 3600;
  /** Access tokens issued so far, by any flow. */
  tokensIssued = 0;

  private readonly tenants = new Map<string, Tenant>();
  private readonly trustedIssuers = new Map<string, KeyObject>();
  private readonly signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private readonly keyId = randomUUID();

  /** Transport-free handler for the `login.*` host. */
  readonly handler: Handler = (request) => this.answer(request);

  /** Adds a tenant (idempotent). */
  addTenant(tenantId: string): void {
    if (!this.tenants.has(tenantId)) this.tenants.set(tenantId, { apps: new Map() });
  }

  /** Registers (or replaces) an app in a tenant, creating the tenant if needed. */
  addApp(tenantId: string, app: AppRegistration): void {
    this.addTenant(tenantId);
    this.tenants.get(tenantId)!.apps.set(app.clientId, { ...app, objectId: app.objectId ?? randomUUID() });
  }

  /**
   * The object id of the app whose client id and (unexpired) secret these are, in any
   * tenant: what a service that takes a service principal's secret directly (ACR's
   * `docker login`) checks with Entra ID.
   */
  verifyClientSecret(clientId: string, secret: string): string | undefined {
    for (const tenant of this.tenants.values()) {
      const app = tenant.apps.get(clientId);
      if (app && !checkSecret(app, secret)) return app.objectId;
    }
    return undefined;
  }

  /** Trusts tokens from an OIDC issuer (as Entra would after reading its discovery document). */
  trustIssuer(issuer: string, publicKey: KeyObject): void {
    this.trustedIssuers.set(issuer, publicKey);
  }

  /** Issues an access token directly, for flows that do not go through the token endpoint (IMDS). */
  issueAccessToken(request: AccessTokenRequest): {
    accessToken: string;
    expiresIn: number;
    expiresOn: number;
  } {
    const now = nowSeconds();
    const expiresIn = this.accessTokenLifetimeSeconds;
    const accessToken = signJwt(
      {
        aud: request.resource,
        iss: `https://sts.azure.test/${request.tenantId}/`,
        iat: now,
        nbf: now,
        exp: now + expiresIn,
        tid: request.tenantId,
        oid: request.objectId,
        sub: request.objectId,
        appid: request.appId,
        azp: request.appId,
        idtyp: 'app',
        ver: '1.0',
        uti: randomUUID(),
      },
      this.signingKey.privateKey,
      { kid: this.keyId },
    );
    this.tokensIssued += 1;
    return { accessToken, expiresIn, expiresOn: now + expiresIn };
  }

  /**
   * Returns the principal when `token` is one this Entra issued, unexpired, for
   * `audience` (a trailing slash on either side is ignored); undefined otherwise.
   */
  verifyAccessToken(token: string, audience: string): TokenPrincipal | undefined {
    const jwt = decodeJwt(token);
    if (!jwt || !hasValidSignature(jwt, this.signingKey.publicKey)) return undefined;
    const { aud, tid, oid, appid, exp } = jwt.payload;
    if (typeof exp !== 'number' || exp <= nowSeconds()) return undefined;
    if (typeof aud !== 'string' || withoutSlash(aud) !== withoutSlash(audience)) return undefined;
    return {
      tenantId: String(tid),
      objectId: String(oid),
      appId: String(appid),
      audience: aud,
      expiresOn: exp,
    };
  }

  /** Reads `Authorization: Bearer ...` and verifies it for `audience`. */
  authorize(request: EmulatedRequest, audience: string): TokenPrincipal | undefined {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    return match ? this.verifyAccessToken(match[1]!, audience) : undefined;
  }

  private answer(request: EmulatedRequest): EmulatedResponse | undefined {
    const path = request.url.pathname;
    const origin = request.url.origin;
    const openId = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    if (openId && request.method === 'GET') {
      const tenantId = decodeURIComponent(openId[1]!);
      if (!this.tenants.has(tenantId)) return unknownTenant(tenantId);
      return { status: 200, body: openIdConfiguration(origin, tenantId) };
    }
    const keys = /^\/([^/]+)\/discovery\/v2\.0\/keys$/.exec(path);
    if (keys && request.method === 'GET') {
      const jwk = this.signingKey.publicKey.export({ format: 'jwk' });
      return { status: 200, body: { keys: [{ ...jwk, kid: this.keyId, use: 'sig', kty: 'RSA' }] } };
    }
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (token && request.method === 'POST') {
      return this.token(decodeURIComponent(token[1]!), new URLSearchParams(request.body.toString()), origin);
    }
    return undefined;
  }

  private token(tenantId: string, form: URLSearchParams, origin: string): EmulatedResponse {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) return unknownTenant(tenantId);
    const grantType = form.get('grant_type');
    if (grantType !== 'client_credentials') {
      return entraError(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grantType ?? ''}'.`,
      );
    }
    const scope = (form.get('scope') ?? '').split(' ').find((each) => each.endsWith('/.default'));
    if (!scope) {
      return entraError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'scope'.",
      );
    }
    const clientId = form.get('client_id') ?? '';
    const app = tenant.apps.get(clientId);
    if (!app) {
      return entraError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }

    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    const refusal =
      secret !== null
        ? checkSecret(app, secret)
        : assertion !== null
          ? this.checkAssertion(app, assertion, `${origin}/${tenantId}/oauth2/v2.0/token`)
          : entraError(
              400,
              'invalid_client',
              7000218,
              "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            );
    if (refusal) return refusal;

    const issued = this.issueAccessToken({
      tenantId,
      resource: scope.slice(0, -'/.default'.length),
      objectId: app.objectId,
      appId: app.clientId,
    });
    return {
      status: 200,
      headers: { 'cache-control': 'no-store, no-cache' },
      body: {
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
        ext_expires_in: issued.expiresIn,
        access_token: issued.accessToken,
      },
    };
  }

  private checkAssertion(
    app: AppRegistration,
    assertion: string,
    tokenEndpoint: string,
  ): EmulatedResponse | undefined {
    const jwt = decodeJwt(assertion);
    if (!jwt) {
      return entraError(400, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
    }
    return jwt.payload.iss === app.clientId
      ? this.checkCertificateAssertion(app, jwt, tokenEndpoint)
      : this.checkFederatedAssertion(app, jwt);
  }

  // A certificate assertion is self-issued (iss = sub = client id), names the key by
  // thumbprint, and is addressed to the token endpoint.
  private checkCertificateAssertion(
    app: AppRegistration,
    jwt: DecodedJwt,
    tokenEndpoint: string,
  ): EmulatedResponse | undefined {
    const sha1 = typeof jwt.header.x5t === 'string' ? jwt.header.x5t : undefined;
    const sha256 = typeof jwt.header['x5t#S256'] === 'string' ? jwt.header['x5t#S256'] : undefined;
    const certificate = (app.certificates ?? [])
      .map((pem) => new X509Certificate(pem))
      .find((cert) => thumbprint(cert, 'sha1') === sha1 || thumbprint(cert, 'sha256') === sha256);
    if (!certificate) {
      const presented = sha1 ? Buffer.from(sha1, 'base64url').toString('hex').toUpperCase() : (sha256 ?? '');
      return entraError(
        401,
        'invalid_client',
        700027,
        `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${presented}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'.]`,
      );
    }
    if (!hasValidSignature(jwt, certificate.publicKey)) {
      return entraError(
        401,
        'invalid_client',
        7000274,
        'Key was found, but use of the key to verify the signature failed.',
      );
    }
    if (jwt.payload.sub !== app.clientId) {
      return entraError(
        401,
        'invalid_client',
        700021,
        "Client assertion application identifier doesn't match 'client_id' parameter.",
      );
    }
    if (
      typeof jwt.payload.aud !== 'string' ||
      jwt.payload.aud.toLowerCase() !== tokenEndpoint.toLowerCase()
    ) {
      return entraError(
        401,
        'invalid_client',
        700212,
        `Client assertion audience claim does not match the token endpoint. Expected '${tokenEndpoint}'.`,
      );
    }
    return expired(jwt);
  }

  // A federated assertion comes from a trusted outside issuer (Azure DevOps here) and
  // must match one of the app's federated credentials exactly.
  private checkFederatedAssertion(app: AppRegistration, jwt: DecodedJwt): EmulatedResponse | undefined {
    const { iss, sub, aud } = jwt.payload;
    const issuer = typeof iss === 'string' ? iss : '';
    const key = this.trustedIssuers.get(issuer);
    const credentials = (app.federatedCredentials ?? []).filter((each) => each.issuer === issuer);
    if (!key || credentials.length === 0) {
      return entraError(
        400,
        'invalid_request',
        700211,
        `No matching federated identity record found for presented assertion issuer '${issuer}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`,
      );
    }
    if (!hasValidSignature(jwt, key)) {
      return entraError(400, 'invalid_client', 50013, 'Assertion failed signature validation.');
    }
    const tooLate = expired(jwt);
    if (tooLate) return tooLate;
    const audiences = Array.isArray(aud) ? aud : [aud];
    const matching = credentials.find(
      (each) =>
        each.subject === sub &&
        audiences.some((one) => (each.audiences ?? [tokenExchangeAudience]).includes(String(one))),
    );
    if (!matching) {
      return entraError(
        400,
        'invalid_request',
        70021,
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${issuer}'. Assertion Subject: '${String(sub)}'. Assertion Audience: '${audiences.join(',')}'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`,
      );
    }
    return undefined;
  }
}

function checkSecret(app: AppRegistration, presented: string): EmulatedResponse | undefined {
  const secrets = (app.secrets ?? []).map((each) => (typeof each === 'string' ? { value: each } : each));
  const match = secrets.find((each) => each.value === presented);
  if (!match) {
    return entraError(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
    );
  }
  if (match.expiresAt && match.expiresAt.getTime() <= Date.now()) {
    return entraError(
      401,
      'invalid_client',
      7000222,
      `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
    );
  }
  return undefined;
}

function expired(jwt: DecodedJwt): EmulatedResponse | undefined {
  const { exp, nbf } = jwt.payload;
  const now = nowSeconds();
  if (typeof exp === 'number' && exp > now && (typeof nbf !== 'number' || nbf <= now + 300)) return undefined;
  const time = (seconds: unknown) =>
    typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : 'unknown';
  return entraError(
    400,
    'invalid_client',
    700024,
    `Client assertion is not within its valid time range. Current time: ${new Date(now * 1000).toISOString()}, assertion valid from ${time(nbf)}, expiry time of assertion ${time(exp)}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
  );
}

function unknownTenant(tenantId: string): EmulatedResponse {
  return entraError(
    400,
    'invalid_tenant',
    90002,
    `Tenant '${tenantId}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  );
}

/** Entra's OAuth error body: `error`, an `error_description` that starts with the AADSTS code, and `error_codes`. */
export function entraError(
  status: number,
  error: string,
  code: number,
  description: string,
): EmulatedResponse {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  return {
    status,
    headers: { 'cache-control': 'no-store, no-cache' },
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

function openIdConfiguration(origin: string, tenantId: string): Record<string, unknown> {
  const base = `${origin}/${tenantId}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    tenant_region_scope: 'WW',
    cloud_instance_name: new URL(origin).hostname.replace(/^login\./, ''),
  };
}

function thumbprint(cert: X509Certificate, algorithm: 'sha1' | 'sha256'): string {
  return createHash(algorithm).update(cert.raw).digest('base64url');
}

function withoutSlash(value: string): string {
  return value.replace(/\/+$/, '').toLowerCase();
}
