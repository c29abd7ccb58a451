import * as http from 'node:http';
import * as https from 'node:https';
import type { NetworkSettings } from '../shared/network';
import { trustedCas } from '../shared/network';

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
 * reused rather than churned). Agent.CAInfo is trusted in addition to Node's roots.
 * The agent's proxy is not applied to staging calls: see the README.
 */
export function createSend(network: NetworkSettings, perHost: number): { send: Send; close: () => void } {
  const ca = trustedCas(network);
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: perHost }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: perHost, ...(ca ? { ca } : {}) }),
  };
  const send: Send = (request) =>
    new Promise((resolve, reject) => {
      const url = new URL(request.url);
      const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
      const transport = url.protocol === 'https:' ? https : http;
      const started = performance.now();
      const outgoing = transport.request(
        url,
        {
          method: request.method,
          agent,
          headers: {
            'user-agent': 'aks-release-flow-acceptance-gate',
            ...request.headers,
            ...(request.body !== undefined ? { 'content-length': Buffer.byteLength(request.body) } : {}),
          },
        },
        (incoming) => {
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
        },
      );
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
    },
  };
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
