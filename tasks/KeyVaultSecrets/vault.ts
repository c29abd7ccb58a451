import type { TokenCredential } from '@azure/core-auth';
import {
  RestError,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { SecretClient } from '@azure/keyvault-secrets';
import { sdkClientOptions, type NetworkSettings, type RetryPolicy } from '../shared/network';
import type { ListedSecret } from './select';

/**
 * The thin Key Vault client the task needs: list secret names (secrets/list) and get one
 * value (secrets/get), over the real @azure/keyvault-secrets SecretClient. Every request,
 * each page of a listing included, runs under the shared retry policy and a deadline, so a
 * throttled or failing vault ends in a VaultGaveUp that names the last status it saw.
 */

/** A secret value with the attributes the task checks. */
export interface FetchedSecret {
  readonly value: string;
  readonly version: string;
  readonly enabled: boolean;
  readonly expiresOn?: Date;
}

/** What the task asks of a vault; the seam the core is tested through. */
export interface VaultClient {
  /**
   * Every secret's metadata, one page at a time as the service serves them, following
   * nextLink; each page is yielded as soon as it arrives. Needs secrets/list.
   */
  listSecretPages(): AsyncIterable<readonly ListedSecret[]>;
  /** The latest value of `name`, or the given version. Needs secrets/get. */
  getSecret(name: string, version?: string): Promise<FetchedSecret>;
}

/** Every secret's metadata, all pages read. Needs secrets/list. */
export async function listAllSecrets(vault: VaultClient): Promise<ListedSecret[]> {
  const listed: ListedSecret[] = [];
  for await (const page of vault.listSecretPages()) listed.push(...page);
  return listed;
}

/** The service's largest page for secrets; fewer pages means fewer round trips. */
export const maxListPageSize = 25;

/** Thrown when retries or the deadline ran out; `lastStatus` is an HTTP status or a socket error code. */
export class VaultGaveUp extends Error {
  constructor(
    readonly lastStatus: string,
    readonly elapsedMs: number,
  ) {
    super(`Gave up after ${elapsedMs} ms; last status ${lastStatus}.`);
    this.name = 'VaultGaveUp';
  }
}

/** Thrown when the vault's host name does not resolve: the vault does not exist (or DNS is wrong). */
export class VaultHostNotFound extends Error {
  constructor(readonly host: string) {
    super(`The host ${host} does not resolve.`);
    this.name = 'VaultHostNotFound';
  }
}

/**
 * The longest one request may take, retries included: every backoff at its ceiling,
 * plus the longest Retry-After honoured, plus time for the requests themselves.
 */
export function requestDeadlineMs(retry: RetryPolicy): number {
  let backoffs = 0;
  for (let attempt = 0; attempt < retry.maxRetries; attempt++) {
    backoffs += Math.min(retry.initialDelayMs * 2 ** attempt, retry.maxDelayMs);
  }
  return backoffs + retry.maxRetryAfterMs + 10_000;
}

/** Builds the client for `vaultUrl` with the agent's network settings and the given retry policy. */
export function createVaultClient(
  vaultUrl: string,
  credential: TokenCredential,
  network: NetworkSettings,
  retry: RetryPolicy,
): VaultClient {
  const attempts = new WeakMap<PipelineRequest, { lastStatus: string }>();
  const client = new SecretClient(vaultUrl, credential, {
    ...sdkClientOptions(network, vaultUrl, retry),
    additionalPolicies: [
      { policy: deadlinePolicy(requestDeadlineMs(retry), attempts), position: 'perCall' },
      { policy: attemptPolicy(retry, attempts), position: 'perRetry' },
    ],
  });
  return {
    // Each page is its own request under the policies above: retried, and with its own deadline.
    // A consumer that stops early ends the pager, so no further page is asked for.
    async *listSecretPages() {
      for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: maxListPageSize })) {
        yield page.map((secret): ListedSecret => ({
          name: secret.name,
          enabled: secret.enabled !== false,
          ...(secret.expiresOn ? { expiresOn: secret.expiresOn } : {}),
        }));
      }
    },
    async getSecret(name, version) {
      const secret = await client.getSecret(name, version ? { version } : {});
      return {
        value: secret.value ?? '',
        version: secret.properties.version ?? '',
        enabled: secret.properties.enabled !== false,
        ...(secret.properties.expiresOn ? { expiresOn: secret.properties.expiresOn } : {}),
      };
    },
  };
}

// Outside the retry loop: one deadline covers a request and all its retries. The SDK asks
// for later pages without the caller's abort signal, so the deadline is set here, per request.
function deadlinePolicy(
  deadlineMs: number,
  attempts: WeakMap<PipelineRequest, { lastStatus: string }>,
): PipelinePolicy {
  return {
    name: 'keyVaultSecretsDeadline',
    async sendRequest(request, next) {
      const started = Date.now();
      const deadline = AbortSignal.timeout(deadlineMs);
      request.abortSignal = request.abortSignal
        ? AbortSignal.any([request.abortSignal as AbortSignal, deadline])
        : deadline;
      attempts.set(request, { lastStatus: 'none' });
      try {
        return await next(request);
      } catch (error) {
        if (!deadline.aborted) throw error;
        throw new VaultGaveUp(attempts.get(request)?.lastStatus ?? 'none', Date.now() - started);
      }
    },
  };
}

// Inside the retry loop: sees every attempt. It records the last status for the message,
// stops at once on an unknown host (the SDK would retry ENOTFOUND as a network blip) and
// on a Retry-After longer than the policy honours, rather than sleeping past the deadline.
// It also raises 403 and 404 itself, with the service's error body: the SDK's pager
// replaces a failed page's message with "Pagination failed" and drops its inner error.
function attemptPolicy(
  retry: RetryPolicy,
  attempts: WeakMap<PipelineRequest, { lastStatus: string }>,
): PipelinePolicy {
  return {
    name: 'keyVaultSecretsAttempt',
    async sendRequest(request, next) {
      const attempt = attempts.get(request);
      let response;
      try {
        response = await next(request);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (attempt && typeof code === 'string') attempt.lastStatus = code;
        if (code === 'ENOTFOUND') throw new VaultHostNotFound(new URL(request.url).host);
        throw error;
      }
      if (attempt) attempt.lastStatus = String(response.status);
      const refusal = serviceRefusal(response);
      if (refusal) throw refusal;
      const retryAfterSeconds = Number(response.headers.get('retry-after'));
      if (response.status === 429 && retryAfterSeconds * 1000 > retry.maxRetryAfterMs) {
        throw new VaultGaveUp(`429 (Retry-After ${retryAfterSeconds} s)`, 0);
      }
      return response;
    },
  };
}

// Key Vault's error body: { error: { code, message, innererror: { code } } }. 401 is left
// to the challenge policy, which answers it with a token.
function serviceRefusal(response: PipelineResponse): RestError | undefined {
  if (response.status !== 403 && response.status !== 404) return undefined;
  let error: { code?: string; message?: string; innererror?: { code?: string } } | undefined;
  try {
    error = (JSON.parse(response.bodyAsText ?? '') as { error?: typeof error }).error;
  } catch {
    return undefined;
  }
  if (!error?.code) return undefined;
  return Object.assign(
    new RestError(error.message ?? `Status ${response.status}`, {
      code: error.code,
      statusCode: response.status,
      request: response.request,
    }),
    {
      details: {
        error: {
          code: error.code,
          message: error.message,
          ...(error.innererror?.code ? { innerError: { code: error.innererror.code } } : {}),
        },
      },
    },
  );
}
