/**
 * What Application Insights' SDK would record in the app, recorded in front of it: a
 * loopback proxy on the app's public port that forwards each request to the app process
 * and keeps one AppRequests row per response (time, name, URL, result code, duration,
 * cloud role and version), sent in batches as the SDK sends them. The sample app carries no
 * telemetry SDK, and its process may be replaced (a new release served on the same URL)
 * while the proxy, and the URL, stay.
 */
import { createServer, request as forward, type Server } from 'node:http';

/** One served request, in AppRequests' column names (a type, so it is a record of columns). */
export type RequestRow = {
  /** When the request arrived. */
  readonly TimeGenerated: Date;
  readonly Name: string;
  readonly Url: string;
  readonly ResultCode: string;
  readonly DurationMs: number;
  readonly AppRoleName: string;
  readonly AppVersion: string;
  readonly AppRoleInstance: string;
};

/** The app behind the proxy: where it listens now, and who it says it is. */
export interface RecordedApp {
  readonly port: number;
  readonly roleName: string;
  readonly version: string;
}

/** A running recorder. */
export interface RequestRecorder {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Listens on `port` (127.0.0.1) and forwards every request to `app()`; every `batchMs` the
 * rows of the requests answered since are handed to `send`, and the rest when it stops. A
 * request the app does not answer (it is being replaced, or crashed) is answered 502 and
 * recorded as such, as a front door in Azure would.
 */
export async function startRequestRecorder(
  port: number,
  app: () => RecordedApp,
  options: { readonly batchMs: number; readonly send: (rows: readonly RequestRow[]) => void },
): Promise<RequestRecorder> {
  const url = `http://127.0.0.1:${port}`;
  let batch: RequestRow[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    options.send(batch);
    batch = [];
  };
  const timer = setInterval(flush, options.batchMs);
  timer.unref();
  const server: Server = createServer((incoming, outgoing) => {
    const arrived = new Date();
    const started = performance.now();
    const target = app();
    const path = incoming.url ?? '/';
    const done = (status: number) =>
      batch.push({
        TimeGenerated: arrived,
        // Application Insights names a request by its method and path, without the query.
        Name: `${incoming.method ?? 'GET'} ${path.split('?')[0]}`,
        Url: `${url}${path}`,
        ResultCode: String(status),
        DurationMs: Math.round((performance.now() - started) * 1000) / 1000,
        AppRoleName: target.roleName,
        AppVersion: target.version,
        AppRoleInstance: `127.0.0.1:${target.port}`,
      });
    const upstream = forward(
      {
        host: '127.0.0.1',
        port: target.port,
        method: incoming.method,
        path,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
        answer.once('end', () => done(answer.statusCode ?? 502));
      },
    );
    upstream.once('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502, { 'content-type': 'text/plain' });
      outgoing.end('Bad gateway: the app did not answer.\n');
      done(502);
    });
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        server.closeAllConnections();
        server.close(() => {
          flush();
          resolve();
        });
      }),
  };
}
