import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import type { ClientRequest } from 'node:http';
import type { TlsSettings } from '@azure/core-rest-pipeline';
import { HttpsProxyAgent } from 'https-proxy-agent';

/**
 * How the agent reaches the network: its proxy (Agent.ProxyUrl, with the bypass
 * list of regular expressions the agent keeps in Agent.ProxyBypassList) and the
 * extra certificate authority it trusts (Agent.CAInfo). Plain data, read once by
 * the shell (agent-environment.ts) and handed to every client.
 */
export interface NetworkSettings {
  readonly proxy?: {
    readonly url: string;
    readonly username?: string;
    readonly password?: string;
    readonly bypass: readonly RegExp[];
  };
  /** PEM text of Agent.CAInfo, trusted in addition to Node's own roots. */
  readonly extraCaPem?: string;
}

/**
 * Bounded retries for every call the tasks make. Throttling (429, and 503 with
 * Retry-After) waits what the service asks for; 5xx and dropped connections back off
 * exponentially with jitter. The totals stay bounded so a task never hangs.
 */
export interface RetryPolicy {
  readonly maxRetries: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Longest Retry-After the task will honour before it gives up instead. */
  readonly maxRetryAfterMs: number;
}

/** The production policy: 6 retries, 0.5 s doubling to 16 s, Retry-After up to 60 s (about 2 minutes in all). */
export const defaultRetryPolicy: RetryPolicy = {
  maxRetries: 6,
  initialDelayMs: 500,
  maxDelayMs: 16_000,
  maxRetryAfterMs: 60_000,
};

// Errors that mean the connection broke or timed out, not that the server said no.
const droppedConnectionCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EAI_AGAIN',
]);

/** True when `error` is a dropped or refused connection, which is worth a retry. */
export function isDroppedConnection(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  return (
    droppedConnectionCodes.has(code) || /socket hang up/i.test((error as Error | undefined)?.message ?? '')
  );
}

/** Returns the proxy settings that apply to `url`, honouring the bypass list. */
export function proxyFor(network: NetworkSettings, url: string): NetworkSettings['proxy'] | undefined {
  const proxy = network.proxy;
  if (!proxy || proxy.bypass.some((pattern) => pattern.test(url))) return undefined;
  return proxy;
}

/** Certificate authorities for a TLS client: Node's roots plus the agent's own, or undefined for the default. */
export function trustedCas(network: NetworkSettings): string[] | undefined {
  return network.extraCaPem ? [...rootCertificates, network.extraCaPem] : undefined;
}

const trustedContexts = new Map<string, SecureContext>();

/**
 * One TLS context for Node's roots plus Agent.CAInfo, built once per process, or
 * undefined when the agent adds no CA. Handing `ca` to each connection instead makes
 * Node parse the ~150 certificates again per handshake, and makes every request's
 * agent pool key from their whole text: about 3 ms per request on these machines.
 */
export function trustedSecureContext(network: NetworkSettings): SecureContext | undefined {
  const pem = network.extraCaPem;
  if (!pem) return undefined;
  let context = trustedContexts.get(pem);
  if (!context) {
    context = createSecureContext({ ca: [...rootCertificates, pem] });
    trustedContexts.set(pem, context);
  }
  return context;
}

/**
 * Options every Azure SDK client is built with, so that proxy, CA and retry
 * behaviour are the same for Key Vault, ARM, the registry and Log Analytics.
 */
export function sdkClientOptions(
  network: NetworkSettings,
  targetUrl: string,
  retry: RetryPolicy = defaultRetryPolicy,
) {
  const proxy = proxyFor(network, targetUrl);
  const secureContext = trustedSecureContext(network);
  return {
    retryOptions: {
      maxRetries: retry.maxRetries,
      retryDelayInMs: retry.initialDelayMs,
      maxRetryDelayInMs: retry.maxDelayMs,
    },
    // The SDK's own proxy policy drops tlsOptions ("TLS settings are not supported in
    // combination with custom Proxy"), which would lose Agent.CAInfo behind a proxy. A
    // tunnelling agent of our own carries both, and the SDK leaves a request's agent alone.
    // The pipeline spreads tlsOptions into the https.Agent it caches per settings object,
    // so a secureContext reaches Node although TlsSettings does not name it.
    ...(proxy
      ? { agent: proxyAgent(proxy, secureContext) }
      : secureContext
        ? { tlsOptions: { secureContext } as TlsSettings }
        : {}),
    userAgentOptions: { userAgentPrefix: 'aks-release-flow' },
  };
}

/**
 * An HTTPS agent that tunnels through the agent's proxy (CONNECT), and opens the TLS
 * session to the target with `secureContext`: the trusted CAs and, for a cluster's
 * admin credentials, the client certificate.
 */
export function proxyAgent(
  proxy: NonNullable<NetworkSettings['proxy']>,
  secureContext: SecureContext | undefined,
): HttpsProxyAgent<string> {
  const url = new URL(proxy.url);
  if (proxy.username) url.username = encodeURIComponent(proxy.username);
  if (proxy.password) url.password = encodeURIComponent(proxy.password);
  return secureContext
    ? new TargetContextProxyAgent(url.toString(), secureContext)
    : new HttpsProxyAgent(url.toString(), { keepAlive: true });
}

/**
 * https-proxy-agent applies its constructor's TLS options to the proxy connection only;
 * the TLS session to the target takes the per-request options, so the context goes in there.
 */
type ConnectOptions = Parameters<HttpsProxyAgent<string>['connect']>[1];

class TargetContextProxyAgent extends HttpsProxyAgent<string> {
  constructor(
    proxyUrl: string,
    private readonly secureContext: SecureContext,
  ) {
    super(proxyUrl, { keepAlive: true });
  }

  override connect(request: ClientRequest, options: ConnectOptions) {
    return super.connect(request, { ...options, secureContext: this.secureContext } as ConnectOptions);
  }
}
