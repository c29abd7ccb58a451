import { parse } from 'yaml';
import { quotedFirstLine } from '../known-secrets';
import { isRecord } from './object';

/** What a kubeconfig's current context says about reaching its cluster. */
export interface KubeconfigContext {
  readonly server: string;
  readonly caPem?: string;
  readonly tlsServerName?: string;
  readonly namespace?: string;
  readonly token?: string;
  readonly clientCertificatePem?: string;
  readonly clientKeyPem?: string;
  /**
   * The user signs in through Microsoft Entra ID (a kubelogin exec plugin or the old
   * azure auth-provider): the task supplies an Entra token itself instead of running it.
   */
  readonly entra: boolean;
}

/** Why a kubeconfig cannot be used, as a short phrase for an error line. */
export class KubeconfigError extends Error {}

type Json = Record<string, unknown>;

function named(list: unknown, name: unknown, what: string): Json {
  const entry = Array.isArray(list) ? list.find((item) => isRecord(item) && item.name === name) : undefined;
  if (!isRecord(entry) || !isRecord(entry[what]))
    throw new KubeconfigError(`it has no ${what} named '${String(name)}'`);
  return entry[what];
}

const base64 = (value: unknown): string | undefined =>
  typeof value === 'string' && value ? Buffer.from(value, 'base64').toString('utf8') : undefined;

/**
 * Reads the current context (or `contextName`) of a kubeconfig. Only inline data is
 * accepted (`*-data` fields): files named by a kubeconfig would not exist on the agent.
 */
export function parseKubeconfig(text: string, contextName?: string): KubeconfigContext {
  let config: unknown;
  try {
    config = parse(text);
  } catch (error) {
    // The parser's message may quote the text, and a kubeconfig holds keys and tokens.
    throw new KubeconfigError(`it is not YAML (${quotedFirstLine((error as Error).message, 200, [text])})`);
  }
  if (!isRecord(config)) throw new KubeconfigError('it is not a kubeconfig');
  const current = contextName ?? config['current-context'];
  if (typeof current !== 'string' || !current) throw new KubeconfigError('it has no current-context');
  const context = named(config.contexts, current, 'context');
  const cluster = named(config.clusters, context.cluster, 'cluster');
  const user =
    isRecord(config.users) || Array.isArray(config.users) ? named(config.users, context.user, 'user') : {};
  if (typeof cluster.server !== 'string') throw new KubeconfigError('its cluster has no server');
  if (cluster['certificate-authority'] || user['client-certificate'] || user.tokenFile) {
    throw new KubeconfigError('it names files; use the inline *-data fields');
  }
  const exec = isRecord(user.exec) ? user.exec : undefined;
  const authProvider = isRecord(user['auth-provider']) ? user['auth-provider'] : undefined;
  const entra =
    (exec !== undefined && /kubelogin/.test(String(exec.command))) || authProvider?.name === 'azure';
  if (exec && !entra)
    throw new KubeconfigError(`its user runs '${String(exec.command)}', which the task cannot run`);
  const caPem = base64(cluster['certificate-authority-data']);
  const clientCertificatePem = base64(user['client-certificate-data']);
  const clientKeyPem = base64(user['client-key-data']);
  return {
    server: cluster.server,
    ...(caPem ? { caPem } : {}),
    ...(typeof cluster['tls-server-name'] === 'string' ? { tlsServerName: cluster['tls-server-name'] } : {}),
    ...(typeof context.namespace === 'string' && context.namespace ? { namespace: context.namespace } : {}),
    ...(typeof user.token === 'string' && user.token ? { token: user.token } : {}),
    ...(clientCertificatePem ? { clientCertificatePem } : {}),
    ...(clientKeyPem ? { clientKeyPem } : {}),
    entra,
  };
}
