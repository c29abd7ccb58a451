import { quotedFirstLine } from '../shared/known-secrets';
import { isDroppedConnection } from '../shared/network';
import { TaskError } from '../shared/task-error';
import { VaultGaveUp, VaultHostNotFound } from './vault';

/**
 * Why a Key Vault call failed, read from the error the SDK threw. The service's 403s all
 * carry `code: "Forbidden"`; the `innererror.code` tells them apart
 * (https://learn.microsoft.com/azure/key-vault/general/rest-error-codes). The SDK keeps the
 * inner error only for first pages and single gets, so the message text is the fallback.
 */
export type VaultFailure =
  | { readonly kind: 'secretNotFound' }
  | { readonly kind: 'disabled' }
  | { readonly kind: 'rbacDenied' }
  | { readonly kind: 'policyDenied' }
  | { readonly kind: 'firewall' }
  | { readonly kind: 'vaultNotFound'; readonly host: string }
  | { readonly kind: 'unauthorized'; readonly detail: string }
  | { readonly kind: 'signIn'; readonly cause: unknown }
  | { readonly kind: 'gaveUp'; readonly lastStatus: string }
  | { readonly kind: 'other'; readonly status: string; readonly detail: string };

/** Failures that every request to the vault would meet, so the task stops asking. */
export function isVaultWide(failure: VaultFailure): boolean {
  return ['firewall', 'vaultNotFound', 'unauthorized', 'signIn', 'gaveUp'].includes(failure.kind);
}

// @azure/identity's error names; any of them means the token could not be had.
const signInErrors = new Set([
  'AuthenticationError',
  'AggregateAuthenticationError',
  'CredentialUnavailableError',
]);

/** Classifies what a SecretClient call threw. */
export function classifyVaultError(error: unknown, vaultHost: string): VaultFailure {
  if (error instanceof VaultGaveUp) return { kind: 'gaveUp', lastStatus: error.lastStatus };
  if (error instanceof VaultHostNotFound) return { kind: 'vaultNotFound', host: error.host };
  const shape = (error ?? {}) as {
    name?: string;
    code?: string;
    statusCode?: number;
    message?: string;
    details?: { error?: { innerError?: { code?: string } } };
  };
  if ((shape.name && signInErrors.has(shape.name)) || /\bAADSTS\d+/.test(shape.message ?? '')) {
    return { kind: 'signIn', cause: error };
  }
  const message = quotedFirstLine(shape.message ?? String(error), 300).trim();
  if (shape.code === 'ENOTFOUND') return { kind: 'vaultNotFound', host: vaultHost };
  // Connection-level failures the SDK retried and finally rethrew.
  if (shape.code && isDroppedConnection(error)) return { kind: 'gaveUp', lastStatus: shape.code };
  const status = shape.statusCode;
  if (status === undefined) return { kind: 'other', status: shape.code ?? 'no response', detail: message };
  if (status === 429 || status >= 500) return { kind: 'gaveUp', lastStatus: String(status) };
  if (status === 401) return { kind: 'unauthorized', detail: message };
  if (status === 404) {
    return shape.code === 'SecretNotFound'
      ? { kind: 'secretNotFound' }
      : { kind: 'vaultNotFound', host: vaultHost };
  }
  if (status === 403) {
    const inner = shape.details?.error?.innerError?.code;
    const text = shape.message ?? '';
    if (inner === 'SecretDisabled' || /disabled secret/i.test(text)) return { kind: 'disabled' };
    if (inner === 'ForbiddenByFirewall' || /not a trusted service/i.test(text)) return { kind: 'firewall' };
    if (inner === 'ForbiddenByRbac' || /Caller is not authorized/i.test(text)) return { kind: 'rbacDenied' };
    if (inner === 'AccessDenied' || /does not have secrets \w+ permission/i.test(text)) {
      return { kind: 'policyDenied' };
    }
  }
  return { kind: 'other', status: String(status), detail: message };
}

/** Where a failure happened, for the message. */
export interface FailureContext {
  readonly vaultName: string;
  readonly operation: 'list' | 'get';
  readonly secretName?: string;
  readonly version?: string;
  /** The wildcard rules that made the listing necessary (list failures only). */
  readonly wildcardRules?: readonly string[];
}

/**
 * The one line the user reads for a failure: what went wrong and what to change.
 * Sign-in failures are described by the shared sign-in code, passed in as `describeSignIn`.
 */
export function failureMessage(
  failure: VaultFailure,
  context: FailureContext,
  describeSignIn: (cause: unknown) => TaskError,
): TaskError {
  const { vaultName, secretName = '', version } = context;
  switch (failure.kind) {
    case 'secretNotFound':
      return version
        ? new TaskError('SecretVersionNotFound', [secretName, version, vaultName])
        : new TaskError('SecretNotFound', [secretName, vaultName]);
    case 'disabled':
      return new TaskError('SecretDisabled', [secretName, vaultName]);
    case 'rbacDenied':
      return context.operation === 'list'
        ? new TaskError('RbacDeniedList', [vaultName, (context.wildcardRules ?? []).join(', ')])
        : new TaskError('RbacDeniedGet', [secretName, vaultName]);
    case 'policyDenied':
      return context.operation === 'list'
        ? new TaskError('AccessPolicyDeniedList', [vaultName, (context.wildcardRules ?? []).join(', ')])
        : new TaskError('AccessPolicyDeniedGet', [secretName, vaultName]);
    case 'firewall':
      return new TaskError('VaultFirewall', [vaultName]);
    case 'vaultNotFound':
      return new TaskError('VaultNotFound', [vaultName, failure.host]);
    case 'unauthorized':
      return new TaskError('VaultUnauthorized', [vaultName, failure.detail]);
    case 'signIn':
      return describeSignIn(failure.cause);
    case 'gaveUp':
      return new TaskError('VaultGaveUp', [vaultName, failure.lastStatus]);
    case 'other':
      return new TaskError('VaultRequestFailed', [vaultName, failure.status, failure.detail]);
  }
}

/** A Get refused for want of permission: every secret the identity asks for fails alike. */
export type GetDenial = Extract<VaultFailure, { kind: 'rbacDenied' | 'policyDenied' }>;

/** True for a permission refusal, which is reported once for all the secrets it hit. */
export function isGetDenial(failure: VaultFailure): failure is GetDenial {
  return failure.kind === 'rbacDenied' || failure.kind === 'policyDenied';
}

/** How many secret names a line about many refused secrets shows. */
const deniedNamesShown = 3;

/**
 * The one line for Gets refused alike on `secretNames` (in the order met): for one secret
 * the usual message, for more the count and the first few names.
 */
export function getDeniedMessage(
  denial: GetDenial,
  secretNames: readonly string[],
  vaultName: string,
): TaskError {
  const seen = new Set<string>();
  const names = secretNames.filter((name) => !seen.has(name.toLowerCase()) && seen.add(name.toLowerCase()));
  const rbac = denial.kind === 'rbacDenied';
  if (names.length === 1) {
    return new TaskError(rbac ? 'RbacDeniedGet' : 'AccessPolicyDeniedGet', [names[0] as string, vaultName]);
  }
  return new TaskError(rbac ? 'RbacDeniedGetMany' : 'AccessPolicyDeniedGetMany', [
    names.length,
    vaultName,
    names.slice(0, deniedNamesShown).join("', '"),
  ]);
}
