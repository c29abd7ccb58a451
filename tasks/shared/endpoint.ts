import * as tl from 'azure-pipelines-task-lib/task';
import { quoted } from './known-secrets';
import { TaskError } from './task-error';

/**
 * A service connection's authorization parameters, looked up by name without regard to
 * case, exactly as stored (no trimming). Not task-lib's getEndpointAuthorizationParameter: that writes every value it
 * returns to the debug log, secrets included, and a multi-line value (a kubeconfig, a
 * PEM certificate) is not reliably masked there line by line.
 *
 * Authorization that cannot be read is one TaskError naming the connection (and
 * `inputName`, the input that named it, when there is one), never its content.
 */
export function endpointAuthorization(id: string, inputName?: string): (key: string) => string | undefined {
  return readEndpointAuthorization(id, inputName)?.parameter ?? (() => undefined);
}

/**
 * A service connection's authorization as the agent passed it: its scheme and its
 * parameters (as `endpointAuthorization` reads them), or undefined when the agent passed
 * none. Unreadable authorization is the same one TaskError, never its content.
 */
export function readEndpointAuthorization(
  id: string,
  inputName?: string,
): { readonly scheme?: string; readonly parameter: (key: string) => string | undefined } | undefined {
  const unreadable = (): TaskError =>
    inputName === undefined
      ? new TaskError('ConnectionAuthorizationUnreadable', [quoted(id)])
      : new TaskError('ConnectionAuthorizationUnreadableFromInput', [quoted(id), inputName]);
  let authorization: unknown;
  try {
    authorization = tl.getEndpointAuthorization(id, true);
  } catch {
    // task-lib's error quotes the authorization JSON whole, client secret included: it is
    // dropped, and not kept as a cause either, since causes reach the debug log.
    throw unreadable();
  }
  if (authorization === undefined) return undefined;
  if (!isRecord(authorization)) throw unreadable();
  const parameters = authorization.parameters ?? {};
  if (!isRecord(parameters)) throw unreadable();
  const values = Object.entries(parameters).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  return {
    ...(typeof authorization.scheme === 'string' ? { scheme: authorization.scheme } : {}),
    parameter: (key) => values.find(([name]) => name.toLowerCase() === key.toLowerCase())?.[1] || undefined,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
