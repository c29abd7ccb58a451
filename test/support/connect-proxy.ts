import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ConnectProxy {
  readonly url: string;
  /** `host:port` of every CONNECT tunnel opened, in order. */
  readonly tunnels: string[];
  /** The Proxy-Authorization header of each CONNECT, '' when there was none. */
  readonly authorizations: string[];
  close(): Promise<void>;
}

/**
 * An HTTP CONNECT proxy on loopback, as corporate agents sit behind: it records the
 * targets it tunnels to and, when `credentials` are given, answers 407 to a CONNECT
 * without them.
 */
export async function startConnectProxy(
  options: { readonly credentials?: { readonly username: string; readonly password: string } } = {},
): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const authorizations: string[] = [];
  const expected = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`
    : undefined;
  // Tunnels leave the HTTP server's bookkeeping once upgraded: tracked here so close() can end them.
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_request, response) => response.writeHead(405).end());
  server.on('connect', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    const target = request.url ?? '';
    const authorization = request.headers['proxy-authorization'] ?? '';
    authorizations.push(authorization);
    if (expected && authorization !== expected) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n');
      return;
    }
    tunnels.push(target);
    const separator = target.lastIndexOf(':');
    const upstream = net.connect(Number(target.slice(separator + 1)), target.slice(0, separator), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
