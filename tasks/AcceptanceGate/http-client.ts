import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import type { NetworkSettings } from '../shared/network';
import { proxyFor, trustedSecureContext } from '../shared/network';

/**
 * The one HTTP seam the gate uses to call the staging deployment. A request in, the
 * status, headers, body and latency out; a connection failure rejects with the
 * socket error (its `code`, such as ECONNREFUSED). The runner and the readiness wait
 * take a `Send`, so their tests can hand in a fake one.
 */

/** What one check request sends. Header names are lower-case. */
export interface OutgoingRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
}

/** What came back, and how long the whole exchange took (first byte out to last byte in). */
export interface IncomingResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly latencyMs: number;
}

/** Sends one request. */
export type Send = (request: OutgoingRequest) => Promise<IncomingResponse>;

/** Bodies past this size are cut: assertions look at the start of a response, and memory stays bounded. */
const maxBodyBytes = 4 * 1024 * 1024;

/**
 * Creates a Send over keep-alive agents that open at most `perHost` sockets per host
 * (the pool already bounds requests per host; the agent matches it so sockets are
 * reused rather than churned). Agent.CAInfo is trusted in addition to Node's roots,
 * and the agent's proxy is used unless its bypass list names the URL: plain HTTP
 * goes to the proxy in absolute form, HTTPS through a CONNECT tunnel.
 */
export function createSend(network: NetworkSettings, perHost: number): { send: Send; close: () => void } {
  const secureContext = trustedSecureContext(network);
  const tlsOptions: https.AgentOptions = { keepAlive: true, maxSockets: perHost, secureContext };
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: perHost }),
    'https:': new https.Agent(tlsOptions),
    tunnel: new TunnelAgent(network, tlsOptions),
  };
  const send: Send = (request) =>
    new Promise((resolve, reject) => {
      const url = new URL(request.url);
      const proxy = proxyFor(network, request.url);
      const secure = url.protocol === 'https:';
      const headers: http.OutgoingHttpHeaders = {
        'user-agent': 'aks-release-flow-acceptance-gate',
        ...request.headers,
        ...(request.body !== undefined ? { 'content-length': Buffer.byteLength(request.body) } : {}),
      };
      const started = performance.now();
      let outgoing: http.ClientRequest;
      const onResponse = (incoming: http.IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        incoming.on('data', (chunk: Buffer) => {
          if (size < maxBodyBytes) chunks.push(chunk);
          size += chunk.length;
        });
        incoming.on('error', reject);
        incoming.on('end', () => {
          clearTimeout(deadline);
          resolve({
            status: incoming.statusCode ?? 0,
            headers: flattenHeaders(incoming.headers),
            body: Buffer.concat(chunks).subarray(0, maxBodyBytes).toString('utf8'),
            latencyMs: performance.now() - started,
          });
        });
      };
      if (proxy && !secure) {
        // A forward proxy takes the whole URL as the request target.
        const proxyUrl = new URL(proxy.url);
        outgoing = http.request(
          {
            host: proxyUrl.hostname,
            port: proxyUrl.port || 80,
            method: request.method,
            path: url.href,
            agent: agents['http:'],
            headers: { ...headers, host: url.host, ...proxyAuthorization(proxy) },
          },
          onResponse,
        );
      } else {
        const agent = secure ? (proxy ? agents.tunnel : agents['https:']) : agents['http:'];
        outgoing = (secure ? https : http).request(
          url,
          { method: request.method, agent, headers },
          onResponse,
        );
      }
      const deadline = setTimeout(() => {
        outgoing.destroy(
          Object.assign(new Error(`no response within ${request.timeoutMs} ms`), { code: 'ETIMEDOUT' }),
        );
      }, request.timeoutMs);
      outgoing.on('error', (error) => {
        clearTimeout(deadline);
        reject(error);
      });
      outgoing.end(request.body);
    });
  return {
    send,
    close: () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
      agents.tunnel.destroy();
    },
  };
}

function proxyAuthorization(proxy: NonNullable<NetworkSettings['proxy']>): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64');
  return { 'proxy-authorization': `Basic ${credentials}` };
}

/** An HTTPS agent whose sockets are TLS over a CONNECT tunnel through the agent's proxy. */
class TunnelAgent extends https.Agent {
  constructor(
    private readonly network: NetworkSettings,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  // Node lets createConnection answer through the callback, so the tunnel can be set up first.
  override createConnection(
    options: tls.ConnectionOptions & { host?: string; port?: number; servername?: string },
    callback: (error: Error | null, socket?: Duplex) => void,
  ): Duplex | undefined {
    const proxy = this.network.proxy;
    if (!proxy) throw new Error('TunnelAgent used without a proxy');
    const proxyUrl = new URL(proxy.url);
    const target = `${options.host}:${options.port ?? 443}`;
    const connect = http.request({
      host: proxyUrl.hostname,
      port: proxyUrl.port || 80,
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...proxyAuthorization(proxy) },
    });
    connect.once('connect', (response, socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        callback(
          Object.assign(new Error(`the proxy refused the tunnel to ${target}: ${response.statusCode}`), {
            code: 'EPROXY',
          }),
        );
        return;
      }
      callback(null, tls.connect({ ...options, socket, servername: options.servername ?? options.host }));
    });
    connect.once('error', (error) => callback(error));
    connect.end();
    return undefined;
  }
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** A short description of a connection failure: its code, or its first line. */
export function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
  return typeof code === 'string' && !message.includes(code)
    ? `${code}: ${message}`
    : (message ?? 'unknown error');
}
