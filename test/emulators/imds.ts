import type { EmulatedEntra, ManagedIdentity } from './entra';
import type { EmulatedRequest, EmulatedResponse, Handler } from './types';

/**
 * The Azure Instance Metadata Service's managed identity endpoint, as a VM (or an
 * agent on one) sees it: GET /metadata/identity/oauth2/token with `Metadata: true`,
 * `resource`, and optionally `client_id` to pick a user-assigned identity.
 * https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http
 */
export class EmulatedImds {
  /** The VM's system-assigned identity, if it has one. */
  systemAssigned?: ManagedIdentity;
  /** The user-assigned identities attached to the VM. */
  readonly userAssigned: ManagedIdentity[] = [];
  /** Token requests answered with a token. */
  tokensIssued = 0;

  /** Transport-free handler, registered under imdsHostName. */
  readonly handler: Handler = (request) => this.answer(request);

  constructor(private readonly entra: EmulatedEntra) {}

  private answer(request: EmulatedRequest): EmulatedResponse | undefined {
    // MSAL appends the path to AZURE_POD_IDENTITY_AUTHORITY_HOST and may leave a trailing slash.
    if (!/^\/metadata\/identity\/oauth2\/token\/?$/.test(request.url.pathname)) return undefined;
    if (request.method !== 'GET') return imdsError(405, 'invalid_request', 'Only GET is supported.');
    // The probe @azure/identity sends leaves this header out on purpose and expects this 400.
    if (request.headers.metadata !== 'true') {
      return imdsError(400, 'invalid_request', 'Required metadata header not specified');
    }
    const query = request.url.searchParams;
    const resource = query.get('resource');
    if (!query.get('api-version'))
      return imdsError(400, 'invalid_request', 'Required query variable api-version is missing');
    if (!resource) return imdsError(400, 'invalid_request', 'Required query variable resource is missing');

    const identity = this.pick(query.get('client_id'), query.get('object_id'));
    if (typeof identity === 'string') return imdsError(400, 'invalid_request', identity);

    const issued = this.entra.issueAccessToken({
      tenantId: identity.tenantId,
      resource,
      objectId: identity.objectId,
      appId: identity.clientId,
    });
    this.tokensIssued += 1;
    // IMDS sends numbers as strings, unlike Entra.
    return {
      status: 200,
      body: {
        access_token: issued.accessToken,
        client_id: identity.clientId,
        expires_in: String(issued.expiresIn),
        expires_on: String(issued.expiresOn),
        ext_expires_in: String(issued.expiresIn),
        not_before: String(issued.expiresOn - issued.expiresIn),
        resource,
        token_type: 'Bearer',
      },
    };
  }

  private pick(clientId: string | null, objectId: string | null): ManagedIdentity | string {
    const all = [...(this.systemAssigned ? [this.systemAssigned] : []), ...this.userAssigned];
    if (clientId || objectId) {
      const found = all.find((each) => each.clientId === clientId || each.objectId === objectId);
      return found ?? 'Identity not found';
    }
    if (this.systemAssigned) return this.systemAssigned;
    if (this.userAssigned.length === 1) return this.userAssigned[0]!;
    if (this.userAssigned.length > 1) {
      return 'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request';
    }
    return 'Identity not found';
  }
}

function imdsError(status: number, error: string, description: string): EmulatedResponse {
  return { status, body: { error, error_description: description } };
}
