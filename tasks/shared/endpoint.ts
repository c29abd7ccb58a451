import * as tl from 'azure-pipelines-task-lib/task';

/**
 * A service connection's authorization parameters, looked up by name without regard to
 * case, exactly as stored (no trimming). Not task-lib's getEndpointAuthorizationParameter: that writes every value it
 * returns to the debug log, secrets included, and a multi-line value (a kubeconfig, a
 * PEM certificate) is not reliably masked there line by line.
 */
export function endpointAuthorization(id: string): (key: string) => string | undefined {
  const parameters = tl.getEndpointAuthorization(id, true)?.parameters ?? {};
  return (key) =>
    Object.entries(parameters).find(([name]) => name.toLowerCase() === key.toLowerCase())?.[1] || undefined;
}
