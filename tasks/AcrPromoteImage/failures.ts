import { quoted } from '../shared/known-secrets';
import { isRegistryError } from '../shared/registry/errors';
import { TaskError } from '../shared/task-error';

/** Which end of the promotion a registry call was made at; it decides the role to name in a hint. */
export type Side = 'source' | 'target';

/** Where a failed call was aimed, for the message. */
export interface FailureContext {
  readonly side: Side;
  readonly registry: string;
  readonly repository: string;
  /** A tag or digest, when the call was about one. */
  readonly reference?: string;
}

/**
 * Turns a registry failure into the one line the user reads, naming the registry and
 * repository and the fix (a role to grant, a lock to lift, a reference to check).
 * Anything that is not a registry failure passes through unchanged.
 */
export function toTaskError(error: unknown, context: FailureContext): unknown {
  if (!isRegistryError(error)) return error;
  const { side, registry, repository } = context;
  const input = side === 'source' ? 'sourceRegistry' : 'targetRegistry';
  switch (error.code) {
    case 'RegistryNotFound':
      return new TaskError('RegistryNotFound', [registry, input], error);
    case 'SignInFailed':
      return new TaskError('RegistrySignInFailed', [registry, side, error.status ?? 'no answer'], error);
    case 'SignInElsewhere':
      return new TaskError(
        'RegistrySignInElsewhere',
        [registry, quoted(error.realmHost ?? ''), side, input],
        error,
      );
    case 'Denied':
      return side === 'source'
        ? new TaskError('PullDenied', [registry, repository], error)
        : new TaskError('PushDenied', [registry, repository], error);
    case 'NotFound':
      return side === 'source'
        ? new TaskError('ImageNotFound', [repository + referenceSuffix(context.reference), registry], error)
        : new TaskError('RegistryUnexpected', [registry, error.operation, error.status ?? ''], error);
    case 'Locked':
      return new TaskError(
        'TargetLocked',
        [repository + referenceSuffix(context.reference), registry],
        error,
      );
    case 'Throttled':
      return new TaskError('Throttled', [registry], error);
    case 'Unavailable':
      return new TaskError('RegistryUnavailable', [registry, error.operation], error);
    case 'DigestMismatch':
      return new TaskError('DigestMismatch', [registry, error.operation], error);
    case 'Unexpected':
      return new TaskError('RegistryUnexpected', [registry, error.operation, error.status ?? ''], error);
  }
}

function referenceSuffix(reference: string | undefined): string {
  if (!reference) return '';
  return (reference.startsWith('sha256:') ? '@' : ':') + reference;
}
