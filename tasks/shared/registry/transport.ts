import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex, Readable } from 'node:stream';
import * as tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  defaultRetryPolicy,
  isDroppedConnection,
  proxyFor,
  trustedSecureContext,
  type NetworkSettings,
  type RetryPolicy,
} from '../network';
import { RegistryError } from './errors';
import { retryDelayMs, retryableStatuses, type AttemptOutcome } from '../retry';

/**
 * The one HTTP layer under the registry client: keep-alive HTTPS with the agent's CA and
 * proxy, bounded retries from `retry.ts`, and request counting. It never logs headers or
 * bodies (tokens travel in both).
 *
 * It is hand-written rather than the Azure SDK pipeline because blob traffic needs what
 * that pipeline does not give: request bodies streamed from another response, Range
 * resumes in the middle of a body, and control over which writes are retried.
 */
export interface TransportOptions {
  readonly network: NetworkSettings;
  readonly retry?: RetryPolicy;
  /** Connections per registry host; the blob pool never needs more. */
  readonly maxSockets?: number;
  /** Waits between attempts; tests pass a fast one. */
  readonly wait?: (ms: number) => Promise<void>;
}

/** One request. A streamed body is sent once: the caller owns retrying such a call. */
export interface TransportRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | Readable;
  /** Whether sending it twice is harmless; reads and PUTs of content-addressed data are. */
  readonly idempotent: boolean;
  /** Supplies the Authorization header for this attempt (fresh after a 401). */
  readonly authorization?: (refresh: boolean) => Promise<string | undefined>;
  /** For errors: what this call does, e.g. `GET manifest app:1.0`. */
  readonly operation: string;
}

/** A response whose body is still a stream; read it, pipe it, or `discard()` it. */
export interface TransportResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: http.IncomingMessage;
}

/** Counters for the summary and the benchmark. */
export interface TransportStats {
  requests: number;
  retries: number;
}

/** Keep-alive HTTPS with retries, shared by every registry client in a task run. */
export class Transport {
  readonly stats: TransportStats = { requests: 0, retries: 0 };
  private readonly agent: https.Agent | TunnellingAgent;
  private readonly policy: RetryPolicy;
  private readonly wait: (ms: number) => Promise<void>;

  constructor(options: TransportOptions) {
    this.policy = options.retry ?? defaultRetryPolicy;
    this.wait = options.wait ?? ((ms) => sleep(ms));
    const secureContext = trustedSecureContext(options.network);
    const agentOptions: https.AgentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? 16,
      ...(secureContext ? { secureContext } : {}),
    };
    this.agent = options.network.proxy
      ? new TunnellingAgent(options.network, agentOptions)
      : new https.Agent(agentOptions);
  }

  /** Sends a request, retrying what is safe to retry; throws RegistryError when it gives up. */
  async send(request: TransportRequest): Promise<TransportResponse> {
    const registry = request.url.host;
    let refreshAuth = false;
    let authRetried = false;
    for (let attempt = 0; ; attempt++) {
      let outcome: AttemptOutcome;
      let failure: unknown;
      try {
        const authorization = request.authorization ? await request.authorization(refreshAuth) : undefined;
        const response = await this.once(request, authorization);
        if (response.status === 401 && request.authorization && !authRetried && canResend(request)) {
          // A cached token can be revoked or expire between the check and the call:
          // one fresh token, then a second 401 is the answer.
          await discard(response);
          refreshAuth = true;
          authRetried = true;
          attempt--;
          continue;
        }
        refreshAuth = false;
        if (!retryableStatuses.has(response.status) || !canResend(request) || !request.idempotent)
          return response;
        outcome = {
          kind: 'response',
          status: response.status,
          retryAfter: header(response.headers, 'retry-after'),
        };
        const delay = retryDelayMs(this.policy, attempt, outcome);
        if (delay === undefined) return response;
        await discard(response);
        this.stats.retries++;
        await this.wait(delay);
        continue;
      } catch (error) {
        failure = error;
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (code === 'ENOTFOUND') {
          throw new RegistryError('RegistryNotFound', {
            registry,
            operation: request.operation,
            cause: error,
          });
        }
        if (!isDroppedConnection(error)) throw error;
        outcome = { kind: 'networkError' };
      }
      const delay =
        canResend(request) && request.idempotent ? retryDelayMs(this.policy, attempt, outcome) : undefined;
      if (delay === undefined) {
        throw new RegistryError('Unavailable', {
          registry,
          operation: request.operation,
          message: (failure as Error).message,
          cause: failure,
        });
      }
      this.stats.retries++;
      await this.wait(delay);
    }
  }

  /** Closes idle keep-alive connections so the process can exit. */
  close(): void {
    this.agent.destroy();
  }

  private once(request: TransportRequest, authorization: string | undefined): Promise<TransportResponse> {
    this.stats.requests++;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'user-agent': 'aks-release-flow', ...request.headers };
      if (authorization) headers.authorization = authorization;
      if (Buffer.isBuffer(request.body)) headers['content-length'] = String(request.body.length);
      const req = https.request(request.url, { method: request.method, headers, agent: this.agent }, (res) =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
      );
      req.setTimeout(120_000, () =>
        req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', reject);
      const body = request.body;
      if (body === undefined || Buffer.isBuffer(body)) req.end(body);
      else if (body.destroyed) {
        // A body that failed before it could be sent (a download opened ahead of its upload).
        req.destroy(body.errored ?? new Error('the request body closed before it was sent'));
      } else {
        body.on('error', (error) => req.destroy(error));
        body.pipe(req);
      }
    });
  }
}

/** Reads a whole (small) body; bounded so a confused server cannot fill memory. */
export async function readBody(response: TransportResponse, limit = 8 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      response.body.destroy();
      throw new Error(`response larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Drops a body we do not need, keeping the connection reusable. */
export async function discard(response: TransportResponse): Promise<void> {
  response.body.resume();
  await new Promise<void>((resolve) => {
    if (response.body.readableEnded || response.body.destroyed) return resolve();
    response.body.once('end', resolve);
    response.body.once('close', resolve);
    response.body.once('error', () => resolve());
  });
}

/** One header as a string. */
export function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function canResend(request: TransportRequest): boolean {
  return request.body === undefined || Buffer.isBuffer(request.body);
}

/**
 * HTTPS through the agent's proxy with CONNECT, honouring its bypass list. Node 20 has no
 * proxy support of its own; the tunnel is opened here and TLS to the registry runs inside
 * it, so the proxy never sees the traffic.
 */
class TunnellingAgent extends https.Agent {
  constructor(
    private readonly network: NetworkSettings,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (error: Error | null, socket: Duplex) => void,
  ): Duplex | null | undefined {
    const target = `${options.host}:${options.port}`;
    const proxy = proxyFor(this.network, `https://${target}/`);
    // Off the proxy (bypassed): https.Agent's own connection, which knows its options.
    if (!proxy || !callback) return super.createConnection(options, callback);
    const proxyUrl = new URL(proxy.url);
    const credentials =
      proxy.username !== undefined
        ? Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64')
        : undefined;
    const proxyOptions: https.RequestOptions & Pick<tls.ConnectionOptions, 'secureContext'> = {
      host: proxyUrl.hostname,
      port: proxyUrl.port || (proxyUrl.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...(credentials ? { 'proxy-authorization': `Basic ${credentials}` } : {}) },
      agent: false,
      secureContext: (options as tls.ConnectionOptions).secureContext,
    };
    const connect = (proxyUrl.protocol === 'https:' ? https : http).request(proxyOptions);
    connect.once('connect', (response, socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        callback(
          Object.assign(new Error(`proxy refused CONNECT ${target}: ${response.statusCode}`), {
            code: 'ECONNREFUSED',
          }),
          socket,
        );
        return;
      }
      const servername = options.servername ?? options.hostname ?? options.host ?? undefined;
      callback(null, tls.connect({ ...(options as tls.ConnectionOptions), socket, servername }));
    });
    connect.once('error', (error) => callback(error, connect.socket as Duplex));
    connect.end();
    return undefined;
  }
}
