/**
 * The transport-free contract every emulated Azure service implements: a request in,
 * a response out. The HTTPS front (server.ts) routes by Host header, applies injected
 * latency and faults, and serialises the response; handlers never see sockets.
 * Emulators never import the tasks' code.
 */
export interface EmulatedRequest {
  readonly method: string;
  /** Full URL as the client addressed it, including the Host it used. */
  readonly url: URL;
  /** Header names are lower-case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Aborted when the client goes away; long-lived (streamed) answers end on it. */
  readonly signal?: AbortSignal;
}

export interface EmulatedResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** An object is sent as JSON; a string or Buffer as is. */
  readonly body?: string | Buffer | object;
  /**
   * A long-lived answer (a Kubernetes watch): each chunk is written as it comes, with
   * chunked transfer encoding; `body` is ignored. It should end when the request's
   * `signal` aborts, which the front fires when the client disconnects.
   */
  readonly stream?: AsyncIterable<string | Buffer>;
}

/** Answers a request, or returns undefined when the path is not this service's (404 follows). */
export type Handler = (
  request: EmulatedRequest,
) => EmulatedResponse | undefined | Promise<EmulatedResponse | undefined>;

/** One kind of injected fault, applied by the front before the handler runs. */
export type Fault =
  | { readonly kind: 'throttle'; readonly retryAfterSeconds: number }
  | { readonly kind: 'status'; readonly status: 500 | 502 | 503 | 504 }
  | { readonly kind: 'drop' };

/** A fault applied to the next `times` requests that `match`. */
export interface FaultRule {
  readonly match: (request: EmulatedRequest) => boolean;
  readonly fault: Fault;
  readonly times: number;
}
