/** Why a registry call failed, in terms the promote porcelain can turn into a hint. */
export type RegistryErrorCode =
  /** The host does not resolve or answers but is not a registry. */
  | 'RegistryNotFound'
  /** Sign-in failed: the token exchange was refused. */
  | 'SignInFailed'
  /** The registry's challenge names another host to sign in at: no token was sent there. */
  | 'SignInElsewhere'
  /** Signed in, but the token does not carry the action (no AcrPull / AcrPush). */
  | 'Denied'
  /** The manifest, tag, blob or repository does not exist. */
  | 'NotFound'
  /** The tag or manifest is locked (ACR writeEnabled / deleteEnabled false). */
  | 'Locked'
  /** Still throttled after the retries the policy allows. */
  | 'Throttled'
  /** 5xx or dropped connections after every retry. */
  | 'Unavailable'
  /** The bytes did not match their digest. */
  | 'DigestMismatch'
  /** Any other answer the client did not expect. */
  | 'Unexpected';

/** A failed registry call: a literal-typed code, the HTTP status if any, and what was being done. */
export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  readonly status?: number;
  /** `host:port` of the registry. */
  readonly registry: string;
  /** For SignInElsewhere: the host the registry's challenge named. */
  readonly realmHost?: string;
  /** What was being done, e.g. `GET /v2/app/manifests/1.0`. */
  readonly operation: string;
  /** Registry error codes from the body (DENIED, MANIFEST_UNKNOWN...), never the body itself. */
  readonly registryCodes: readonly string[];
  /** The Retry-After the registry sent with a throttled answer. */
  readonly retryAfter?: string;
  override readonly cause?: unknown;

  constructor(
    code: RegistryErrorCode,
    details: {
      registry: string;
      operation: string;
      status?: number;
      registryCodes?: readonly string[];
      retryAfter?: string;
      realmHost?: string;
      message?: string;
      cause?: unknown;
    },
  ) {
    const status = details.status
      ? ` (HTTP ${details.status}${details.registryCodes?.length ? ` ${details.registryCodes.join(',')}` : ''})`
      : '';
    super(
      `${code}: ${details.operation} at ${details.registry}${status}${details.message ? `: ${details.message}` : ''}`,
    );
    this.name = 'RegistryError';
    this.code = code;
    this.status = details.status;
    this.registry = details.registry;
    this.operation = details.operation;
    this.registryCodes = details.registryCodes ?? [];
    this.retryAfter = details.retryAfter;
    this.realmHost = details.realmHost;
    this.cause = details.cause;
  }
}

/** Whether an error is a RegistryError with one of `codes`. */
export function isRegistryError(error: unknown, ...codes: RegistryErrorCode[]): error is RegistryError {
  return error instanceof RegistryError && (codes.length === 0 || codes.includes(error.code));
}
