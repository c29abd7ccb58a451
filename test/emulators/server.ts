import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestCertificateAuthority, type TestCertificateAuthority } from './certificates';
import type { EmulatedRequest, EmulatedResponse, Fault, FaultRule, Handler } from './types';

/** The address IMDS really lives at; handlers for the plain-HTTP IMDS listener register under it. */
export const imdsHostName = '169.254.169.254';

/** Absolute path of the preload that resolves *.azure.test to loopback in spawned processes. */
export const loopbackDnsPreload = resolve(__dirname, '..', 'support', 'loopback-dns.cjs');

/** One request as the front saw it, for assertions. */
export interface RequestLogEntry {
  readonly method: string;
  /** Host name without the port, lower-case. */
  readonly host: string;
  /** Path and query, as sent. */
  readonly path: string;
  /** The status sent, or 0 when the connection was dropped. */
  readonly status: number;
  /** The kind of fault injected instead of the handler's answer, if any. */
  readonly fault?: Fault['kind'];
}

/** The running emulated cloud: one HTTPS front for every *.azure.test host and a plain-HTTP IMDS. */
export interface EmulatedAzure {
  /** Port of the HTTPS front; every emulated URL carries it. */
  readonly port: number;
  /** Port of the plain-HTTP IMDS listener on 127.0.0.1. */
  readonly imdsPort: number;
  /** The per-run CA (its PEM is what in-process clients trust as Agent.CAInfo). */
  readonly ca: TestCertificateAuthority;
  /** Every request so far, oldest first. */
  readonly requests: readonly RequestLogEntry[];
  /**
   * Routes requests whose host matches to `handler`: a string is an exact host name or
   * a `*.` wildcard for exactly one more label; a RegExp is tested on the host name.
   * Earlier registrations answer first; a handler returning undefined passes the request on.
   * Returns a function that removes the registration.
   */
  register(hostPattern: string | RegExp, handler: Handler): () => void;
  /** Delays every matching request (all when `match` is omitted) by `ms` before it is answered. */
  setLatency(ms: number, match?: (request: EmulatedRequest) => boolean): void;
  /** Removes every latency rule. */
  clearLatency(): void;
  /** Answers the next `rule.times` matching requests with `rule.fault` instead of the handler. */
  injectFault(rule: FaultRule): void;
  /** Removes every fault rule that is still pending. */
  clearFaults(): void;
  /** Empties the request log. */
  clearRequestLog(): void;
  /** Clears latency, faults and the request log; registrations stay. */
  reset(): void;
  /** `host:port`, e.g. for a Key Vault DNS suffix `vault.azure.test:PORT`. */
  authority(host: string): string;
  /** `https://<host>:<port><path>`. */
  url(host: string, path?: string): string;
  /** The IMDS base URL as @azure/identity takes it from AZURE_POD_IDENTITY_AUTHORITY_HOST. */
  imdsUrl(): string;
  /** Environment a spawned task needs to reach the emulators and trust their CA. */
  env(): Record<string, string>;
  /** Closes both listeners, including keep-alive connections, and deletes the CA files. */
  stop(): Promise<void>;
}

interface Route {
  readonly matches: (host: string) => boolean;
  readonly handler: Handler;
}

interface LatencyRule {
  readonly ms: number;
  readonly match: (request: EmulatedRequest) => boolean;
}

interface PendingFault {
  readonly rule: FaultRule;
  remaining: number;
}

/** Starts the emulated cloud's listeners on loopback, on ephemeral ports. */
export async function startEmulatedAzure(): Promise<EmulatedAzure> {
  const ca = await createTestCertificateAuthority();
  const routes: Route[] = [];
  const latencies: LatencyRule[] = [];
  const faults: PendingFault[] = [];
  const requests: RequestLogEntry[] = [];

  const serve =
    (scheme: 'https' | 'http', fixedHost?: string) =>
    (incoming: http.IncomingMessage, outgoing: http.ServerResponse): void => {
      void answer(scheme, fixedHost, incoming, outgoing).catch((error: unknown) => {
        // A handler bug must surface in the test, not hang the client.
        if (!outgoing.headersSent) {
          send(outgoing, azureError(500, 'InternalServerError', `Emulator failure: ${String(error)}`));
        } else {
          outgoing.destroy();
        }
      });
    };

  async function answer(
    scheme: 'https' | 'http',
    fixedHost: string | undefined,
    incoming: http.IncomingMessage,
    outgoing: http.ServerResponse,
  ): Promise<void> {
    const body = await readBody(incoming);
    const hostHeader = incoming.headers.host ?? '127.0.0.1';
    const url = new URL(incoming.url ?? '/', `${scheme}://${hostHeader}`);
    const host = fixedHost ?? url.hostname.toLowerCase();
    const disconnected = new AbortController();
    outgoing.once('close', () => disconnected.abort());
    const request: EmulatedRequest = {
      method: incoming.method ?? 'GET',
      url,
      headers: lowerCaseHeaders(incoming.headers),
      body,
      signal: disconnected.signal,
    };
    const log = (status: number, fault?: Fault['kind']): void => {
      requests.push({ method: request.method, host, path: url.pathname + url.search, status, fault });
    };

    const delay = Math.max(0, ...latencies.filter((rule) => rule.match(request)).map((rule) => rule.ms));
    if (delay > 0) await sleep(delay);

    const pending = faults.find((each) => each.remaining > 0 && each.rule.match(request));
    if (pending) {
      pending.remaining -= 1;
      const fault = pending.rule.fault;
      if (fault.kind === 'drop') {
        log(0, 'drop');
        incoming.socket.destroy();
        return;
      }
      const response = faultResponse(fault);
      log(response.status, fault.kind);
      send(outgoing, response);
      return;
    }

    let response: EmulatedResponse | undefined;
    for (const route of routes) {
      if (!route.matches(host)) continue;
      response = await route.handler(request);
      if (response) break;
    }
    response ??= azureError(
      404,
      'NotFound',
      `No emulated service answers ${request.method} ${host}${url.pathname}.`,
    );
    log(response.status);
    if (response.stream) await sendStream(outgoing, response, response.stream);
    else send(outgoing, response);
  }

  const front = https.createServer({ cert: ca.server.certPem, key: ca.server.keyPem }, serve('https'));
  const imds = http.createServer(serve('http', imdsHostName));
  const port = await listen(front);
  const imdsPort = await listen(imds);

  const azure: EmulatedAzure = {
    port,
    imdsPort,
    ca,
    requests,
    register(hostPattern, handler) {
      const route: Route = { matches: hostMatcher(hostPattern), handler };
      routes.push(route);
      return () => {
        const index = routes.indexOf(route);
        if (index >= 0) routes.splice(index, 1);
      };
    },
    setLatency(ms, match = () => true) {
      latencies.push({ ms, match });
    },
    clearLatency() {
      latencies.length = 0;
    },
    injectFault(rule) {
      faults.push({ rule, remaining: rule.times });
    },
    clearFaults() {
      faults.length = 0;
    },
    clearRequestLog() {
      requests.length = 0;
    },
    reset() {
      azure.clearLatency();
      azure.clearFaults();
      azure.clearRequestLog();
    },
    authority: (host) => `${host}:${port}`,
    url: (host, path = '/') => `https://${host}:${port}${path}`,
    imdsUrl: () => `http://127.0.0.1:${imdsPort}`,
    env: () => ({
      NODE_EXTRA_CA_CERTS: ca.caFile,
      NODE_OPTIONS: `--require ${quoteForNodeOptions(loopbackDnsPreload)}`,
      // The one switch @azure/identity (and MSAL) honour to find IMDS somewhere else.
      AZURE_POD_IDENTITY_AUTHORITY_HOST: azure.imdsUrl(),
    }),
    async stop() {
      await Promise.all([close(front), close(imds)]);
      ca.dispose();
    },
  };
  return azure;
}

/** An error body shaped like ARM's and most data planes': `{ error: { code, message } }`. */
export function azureError(status: number, code: string, message: string): EmulatedResponse {
  return { status, body: { error: { code, message } } };
}

function faultResponse(fault: Exclude<Fault, { kind: 'drop' }>): EmulatedResponse {
  if (fault.kind === 'throttle') {
    return {
      ...azureError(
        429,
        'TooManyRequests',
        `Too many requests. Retry after ${fault.retryAfterSeconds} seconds.`,
      ),
      headers: { 'retry-after': String(fault.retryAfterSeconds) },
    };
  }
  const codes: Record<number, string> = {
    500: 'InternalServerError',
    502: 'BadGateway',
    503: 'ServiceUnavailable',
    504: 'GatewayTimeout',
  };
  return azureError(
    fault.status,
    codes[fault.status] ?? 'ServerError',
    'The service is temporarily unavailable.',
  );
}

function hostMatcher(pattern: string | RegExp): (host: string) => boolean {
  if (pattern instanceof RegExp) return (host) => pattern.test(host);
  const wanted = pattern.toLowerCase();
  if (wanted.startsWith('*.')) {
    const suffix = wanted.slice(1);
    return (host) => host.endsWith(suffix) && !host.slice(0, -suffix.length).includes('.');
  }
  return (host) => host === wanted;
}

function send(outgoing: http.ServerResponse, response: EmulatedResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  let payload: Buffer | undefined;
  const body = response.body;
  if (typeof body === 'string') payload = Buffer.from(body);
  else if (Buffer.isBuffer(body)) payload = body;
  else if (body !== undefined) {
    payload = Buffer.from(JSON.stringify(body));
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json; charset=utf-8';
    }
  }
  headers['content-length'] = String(payload?.length ?? 0);
  outgoing.writeHead(response.status, headers);
  outgoing.end(payload);
}

// Headers go out at once (a watch client waits for them before the first event), then
// every chunk as it is produced; a client that has gone stops the writing.
async function sendStream(
  outgoing: http.ServerResponse,
  response: EmulatedResponse,
  stream: AsyncIterable<string | Buffer>,
): Promise<void> {
  outgoing.writeHead(response.status, { ...response.headers, 'transfer-encoding': 'chunked' });
  outgoing.flushHeaders();
  for await (const chunk of stream) {
    if (outgoing.destroyed || outgoing.writableEnded) break;
    outgoing.write(chunk);
  }
  if (!outgoing.destroyed && !outgoing.writableEnded) outgoing.end();
}

function lowerCaseHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) result[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

async function readBody(incoming: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function listen(server: http.Server): Promise<number> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done((server.address() as AddressInfo).port));
  });
}

function close(server: http.Server): Promise<void> {
  return new Promise((done) => {
    server.close(() => done());
    // Keep-alive sockets would otherwise hold the process (and mocha) open.
    server.closeAllConnections();
  });
}

function quoteForNodeOptions(path: string): string {
  return /[\s"]/.test(path) ? `"${path.replace(/(["\\])/g, '\\$1')}"` : path;
}
