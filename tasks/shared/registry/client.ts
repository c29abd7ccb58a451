import type { Readable } from 'node:stream';
import type { RegistryCredentials } from './acr-auth';
import { RegistryError, type RegistryErrorCode } from './errors';
import { isDigest, manifestAccept, sha256Digest, type Descriptor } from './manifest';
import {
  discard,
  header,
  readBody,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from './transport';

/**
 * The OCI distribution wire client for one registry: plumbing, one HTTP step per method,
 * each named after the call it makes. The promote porcelain sits on top of it.
 *
 * Written by hand rather than with @azure/container-registry's content client because the
 * SDK has no HEAD for blobs, no cross-repository mount, no Range reads to resume a broken
 * download, no referrers API, and its setManifest re-serialises manifest objects.
 * Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md
 */
export class RegistryClient {
  /**
   * @param registry `host` or `host:port`, as the login server is written
   */
  constructor(
    readonly registry: string,
    private readonly transport: Transport,
    private readonly credentials: RegistryCredentials,
  ) {}

  /** GET /v2/ with credentials for `repository`: proves the registry exists and sign-in works. */
  async ping(repository: string, action: 'pull' | 'push'): Promise<void> {
    const response = await this.call('GET', '/v2/', scope(repository, action), 'GET /v2/');
    await this.expect(response, [200], 'GET /v2/');
  }

  /** HEAD /v2/<repo>/manifests/<ref>: the descriptor, or undefined when absent. */
  async headManifest(repository: string, reference: string): Promise<Descriptor | undefined> {
    const operation = `HEAD manifest ${repository}:${reference}`;
    const response = await this.call(
      'HEAD',
      manifestPath(repository, reference),
      scope(repository, 'pull'),
      operation,
      {
        headers: { accept: manifestAccept },
      },
    );
    await discard(response);
    if (response.status === 404) return undefined;
    await this.expect(response, [200], operation);
    const digest = header(response.headers, 'docker-content-digest');
    return {
      mediaType: String(header(response.headers, 'content-type')),
      digest: digest ?? (isDigest(reference) ? reference : ''),
      size: Number(header(response.headers, 'content-length') ?? 0),
    };
  }

  /**
   * GET /v2/<repo>/manifests/<ref>: the exact bytes, their media type as the registry
   * served it, and their digest, checked against the reference when it is a digest.
   */
  async getManifest(
    repository: string,
    reference: string,
  ): Promise<{ bytes: Buffer; descriptor: Descriptor }> {
    const operation = `GET manifest ${repository}:${reference}`;
    const response = await this.call(
      'GET',
      manifestPath(repository, reference),
      scope(repository, 'pull'),
      operation,
      {
        headers: { accept: manifestAccept },
      },
    );
    await this.expect(response, [200], operation);
    const bytes = await readBody(response);
    const digest = sha256Digest(bytes);
    const claimed = isDigest(reference) ? reference : header(response.headers, 'docker-content-digest');
    if (claimed && claimed !== digest) {
      throw new RegistryError('DigestMismatch', {
        registry: this.registry,
        operation,
        message: `expected ${claimed}, the bytes hash to ${digest}`,
      });
    }
    const mediaType = header(response.headers, 'content-type')?.split(';')[0]?.trim() ?? '';
    return { bytes, descriptor: { mediaType, digest, size: bytes.length } };
  }

  /** PUT /v2/<repo>/manifests/<ref> with the bytes as they are; returns the digest the registry computed. */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<string> {
    const operation = `PUT manifest ${repository}:${reference}`;
    const response = await this.call(
      'PUT',
      manifestPath(repository, reference),
      scope(repository, 'pull,push'),
      operation,
      {
        headers: { 'content-type': mediaType },
        body: bytes,
        // Content-addressed: putting the same bytes again changes nothing.
        idempotent: true,
      },
    );
    await this.expect(response, [201], operation);
    await discard(response);
    const digest = sha256Digest(bytes);
    const stored = header(response.headers, 'docker-content-digest');
    if (stored && stored !== digest) {
      throw new RegistryError('DigestMismatch', {
        registry: this.registry,
        operation,
        message: `the registry stored ${stored} for bytes that hash to ${digest}`,
      });
    }
    return digest;
  }

  /** HEAD /v2/<repo>/blobs/<digest>: its size, or undefined when absent. */
  async headBlob(repository: string, digest: string): Promise<number | undefined> {
    const operation = `HEAD blob ${repository}@${digest}`;
    const response = await this.call(
      'HEAD',
      `/v2/${repository}/blobs/${digest}`,
      scope(repository, 'pull'),
      operation,
    );
    await discard(response);
    if (response.status === 404) return undefined;
    await this.expect(response, [200], operation);
    return Number(header(response.headers, 'content-length') ?? 0);
  }

  /**
   * GET /v2/<repo>/blobs/<digest>, from `offset` with a Range request when resuming.
   * Registries may redirect blob reads to storage (ACR does); the redirect is followed
   * without the registry's token.
   */
  async openBlob(repository: string, digest: string, offset = 0): Promise<Readable> {
    const operation = `GET blob ${repository}@${digest}${offset ? ` from byte ${offset}` : ''}`;
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    let response = await this.call(
      'GET',
      `/v2/${repository}/blobs/${digest}`,
      scope(repository, 'pull'),
      operation,
      {
        headers,
      },
    );
    for (let hops = 0; [301, 302, 303, 307, 308].includes(response.status) && hops < 5; hops++) {
      const location = new URL(String(header(response.headers, 'location')), this.url('/'));
      await discard(response);
      response = await this.transport.send({
        method: 'GET',
        url: location,
        headers,
        idempotent: true,
        operation,
      });
    }
    await this.expect(response, offset > 0 ? [206] : [200], operation);
    return response.body;
  }

  /**
   * POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<repo>: 201 means the registry
   * linked the blob it already holds, 202 means it did not (another registry, no read
   * access on `from`, or a registry without mount) and opened an upload instead.
   */
  async mountBlob(
    repository: string,
    digest: string,
    from: string,
  ): Promise<{ mounted: true } | { mounted: false; upload: URL }> {
    const operation = `mount blob ${digest} from ${from} into ${repository}`;
    const query = `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const response = await this.call(
      'POST',
      `/v2/${repository}/blobs/uploads/${query}`,
      [`repository:${repository}:pull,push`, `repository:${from}:pull`],
      operation,
      // Starting an upload session creates nothing a reader sees: safe to repeat.
      { idempotent: true },
    );
    await this.expect(response, [201, 202], operation);
    await discard(response);
    if (response.status === 201) return { mounted: true };
    return { mounted: false, upload: this.uploadUrl(response, operation) };
  }

  /** POST /v2/<repo>/blobs/uploads/: opens an upload session and returns its location. */
  async startUpload(repository: string): Promise<URL> {
    const operation = `start upload to ${repository}`;
    const response = await this.call(
      'POST',
      `/v2/${repository}/blobs/uploads/`,
      scope(repository, 'pull,push'),
      operation,
      {
        idempotent: true,
      },
    );
    await this.expect(response, [202], operation);
    await discard(response);
    return this.uploadUrl(response, operation);
  }

  /**
   * PUT <upload location>?digest=<digest> with the whole blob streamed as the body
   * (a monolithic upload): one request, no chunking, and the registry checks the digest
   * before it commits. A streamed body is sent once; the porcelain retries the blob.
   */
  async finishUpload(
    repository: string,
    upload: URL,
    digest: string,
    size: number,
    body: Readable,
  ): Promise<void> {
    const operation = `upload blob ${digest} to ${repository}`;
    const url = new URL(upload);
    url.searchParams.set('digest', digest);
    const response = await this.call(
      'PUT',
      url.pathname + url.search,
      scope(repository, 'pull,push'),
      operation,
      {
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body,
        idempotent: false,
      },
    );
    await this.expect(response, [201], operation);
    await discard(response);
  }

  /**
   * GET /v2/<repo>/referrers/<digest>: the referrers' descriptors, or undefined when the
   * registry has no referrers API (404 from a registry that predates OCI 1.1; the API
   * itself answers 200 with an empty list for an unknown subject).
   */
  async referrers(repository: string, digest: string): Promise<Descriptor[] | undefined> {
    const operation = `GET referrers of ${repository}@${digest}`;
    const response = await this.call(
      'GET',
      `/v2/${repository}/referrers/${digest}`,
      scope(repository, 'pull'),
      operation,
      {
        headers: { accept: 'application/vnd.oci.image.index.v1+json' },
      },
    );
    if (response.status === 404) {
      await discard(response);
      return undefined;
    }
    await this.expect(response, [200], operation);
    const body = JSON.parse((await readBody(response)).toString('utf8')) as { manifests?: Descriptor[] };
    return body.manifests ?? [];
  }

  /** `https://<registry><path>`. */
  url(path: string): URL {
    return new URL(path, `https://${this.registry}`);
  }

  private uploadUrl(response: TransportResponse, operation: string): URL {
    const location = header(response.headers, 'location');
    if (!location)
      throw new RegistryError('Unexpected', { registry: this.registry, operation, message: 'no Location' });
    // Locations may be relative (ACR, distribution with relativeurls) or absolute.
    return new URL(location, this.url('/'));
  }

  private call(
    method: TransportRequest['method'],
    path: string,
    scopes: readonly string[],
    operation: string,
    extra: Partial<Pick<TransportRequest, 'headers' | 'body' | 'idempotent'>> = {},
  ): Promise<TransportResponse> {
    return this.transport.send({
      method,
      url: this.url(path),
      idempotent: extra.idempotent ?? (method === 'GET' || method === 'HEAD'),
      headers: extra.headers,
      body: extra.body,
      authorization: (refresh) => this.credentials.authorization(this.registry, scopes, refresh),
      operation,
    });
  }

  private async expect(
    response: TransportResponse,
    statuses: readonly number[],
    operation: string,
  ): Promise<void> {
    if (statuses.includes(response.status)) return;
    const codes = await errorCodes(response);
    throw new RegistryError(classify(response.status, codes), {
      registry: this.registry,
      operation,
      status: response.status,
      registryCodes: codes,
      retryAfter: header(response.headers, 'retry-after'),
    });
  }
}

/** Maps a failed answer to a code; the body's error codes settle the ambiguous statuses. */
export function classify(status: number, codes: readonly string[]): RegistryErrorCode {
  if (status === 401 || status === 403) return 'Denied';
  if (status === 404) return 'NotFound';
  if (status === 405 && codes.includes('DENIED')) return 'Locked';
  if (status === 429 || codes.includes('TOOMANYREQUESTS')) return 'Throttled';
  if (status >= 500) return 'Unavailable';
  if (codes.includes('DIGEST_INVALID')) return 'DigestMismatch';
  return 'Unexpected';
}

function scope(repository: string, actions: string): string[] {
  return [`repository:${repository}:${actions}`];
}

function manifestPath(repository: string, reference: string): string {
  return `/v2/${repository}/manifests/${reference}`;
}

async function errorCodes(response: TransportResponse): Promise<string[]> {
  try {
    const body = JSON.parse((await readBody(response, 64 * 1024)).toString('utf8')) as {
      errors?: { code?: string }[];
    };
    return (body.errors ?? []).map((error) => String(error.code ?? '')).filter((code) => code.length > 0);
  } catch {
    return [];
  }
}
