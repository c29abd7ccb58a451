import { stringify } from 'yaml';

/** How a kubeconfig user signs in. */
export type KubeconfigUser =
  | { readonly token: string }
  | { readonly clientCertificatePem: string; readonly clientKeyPem: string; readonly token?: string }
  | { readonly exec: Record<string, unknown> }
  /** The legacy `auth-provider` form (AKS's `format=azure`). */
  | { readonly authProvider: Record<string, unknown> };

/** What goes into a single-cluster kubeconfig. */
export interface KubeconfigOptions {
  /** The cluster, context name. */
  readonly clusterName: string;
  /** The user entry's name, e.g. `clusterUser_<rg>_<cluster>`. */
  readonly userName: string;
  /** `https://<host>:<port>`. */
  readonly server: string;
  readonly caPem: string;
  readonly user: KubeconfigUser;
  /** For clients that connect to an IP but must verify the certificate for a name (kubectl → 127.0.0.1). */
  readonly tlsServerName?: string;
  readonly namespace?: string;
}

/** A kubeconfig as YAML, shaped like the ones AKS hands out. */
export function kubeconfigYaml(options: KubeconfigOptions): string {
  const user = options.user;
  const userEntry: Record<string, unknown> =
    'exec' in user
      ? { exec: user.exec }
      : 'authProvider' in user
        ? { 'auth-provider': user.authProvider }
        : 'clientCertificatePem' in user
          ? {
              'client-certificate-data': Buffer.from(user.clientCertificatePem).toString('base64'),
              'client-key-data': Buffer.from(user.clientKeyPem).toString('base64'),
              ...(user.token ? { token: user.token } : {}),
            }
          : { token: user.token };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: options.clusterName,
        cluster: {
          'certificate-authority-data': Buffer.from(options.caPem).toString('base64'),
          server: options.server,
          ...(options.tlsServerName ? { 'tls-server-name': options.tlsServerName } : {}),
        },
      },
    ],
    contexts: [
      {
        name: options.clusterName,
        context: {
          cluster: options.clusterName,
          user: options.userName,
          ...(options.namespace ? { namespace: options.namespace } : {}),
        },
      },
    ],
    'current-context': options.clusterName,
    preferences: {},
    users: [{ name: options.userName, user: userEntry }],
  });
}
