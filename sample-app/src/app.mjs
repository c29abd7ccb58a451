// The HTTP API: routes, request bodies and JSON answers, over node:http. It holds no
// sockets or settings of its own; server.mjs gives it what it needs.
import { validateOrderInput } from './orders.mjs';

const maxBodyBytes = 64 * 1024;
const orderPath = /^\/api\/orders\/([A-Za-z0-9-]{1,64})$/;

/** A request the service answers with a 4xx: the status and the one-line reason. */
class RequestError extends Error {
  constructor(status, message, details = {}) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

/**
 * Creates the service's request handler. `build` is what /api/version reports, `orders`
 * the order book, and `failChecks` turns on the broken-release behaviour: /healthz says
 * `degraded` and the order routes answer 500.
 */
export function createApp({ build, orders, log, environment, failChecks }) {
  let ready = true;

  const routes = {
    '/healthz': {
      // 200 even when degraded: it is a report, not a probe. Kubernetes probes /ready, and
      // the acceptance gate reads the status field, so a degraded release still rolls out
      // and then fails its acceptance checks, as a subtly broken release does.
      GET: () => [200, { status: failChecks ? 'degraded' : 'ok', version: build.version }],
    },
    '/ready': {
      GET: () => (ready ? [200, { ready: true }] : [503, { ready: false }]),
    },
    '/api/version': {
      GET: () => [200, { ...build, environment, node: process.version }],
    },
    '/api/orders': {
      GET: () => {
        refuseWhenFailing();
        const list = orders.list();
        return [200, { orders: list, count: list.length }];
      },
      POST: async (request) => {
        refuseWhenFailing();
        const checked = validateOrderInput(await readJson(request));
        if (!checked.ok) throw new RequestError(400, 'invalid order', { problems: checked.problems });
        const order = orders.add(checked.value);
        return [201, order, { location: `/api/orders/${order.id}` }];
      },
    },
  };

  const refuseWhenFailing = () => {
    if (failChecks) throw new RequestError(500, 'orders are unavailable (ORDERS_FAIL_CHECKS is on)');
  };

  const orderRoute = (id) => ({
    GET: () => {
      refuseWhenFailing();
      const order = orders.get(id);
      if (!order) throw new RequestError(404, `no order ${id}`);
      return [200, order];
    },
  });

  const handler = async (request, response) => {
    const started = performance.now();
    const { pathname } = new URL(request.url ?? '/', 'http://localhost');
    // The path only: a query string may carry what does not belong in a log.
    response.on('finish', () =>
      log.info(
        `${request.method} ${pathname} ${response.statusCode} ${(performance.now() - started).toFixed(1)}ms`,
      ),
    );
    try {
      const methods =
        routes[pathname] ?? (orderPath.test(pathname) ? orderRoute(pathname.match(orderPath)[1]) : undefined);
      if (!methods) throw new RequestError(404, `no route ${pathname}`);
      const answer = methods[request.method];
      if (!answer) {
        response.setHeader('allow', Object.keys(methods).join(', '));
        throw new RequestError(405, `${request.method} is not allowed on ${pathname}`);
      }
      const [status, body, headers] = await answer(request);
      sendJson(response, status, body, headers);
    } catch (error) {
      if (error instanceof RequestError) {
        sendJson(response, error.status, { error: error.message, ...error.details });
      } else {
        log.error(`${request.method} ${pathname} failed: ${error?.message ?? error}`);
        sendJson(response, 500, { error: 'internal error' });
      }
    }
  };

  return {
    handler,
    /** Makes /ready answer 503, so Kubernetes stops sending traffic before the server closes. */
    stopAccepting: () => {
      ready = false;
    },
  };
}

function sendJson(response, status, body, headers = {}) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(text);
}

/** Reads a JSON request body of at most maxBodyBytes. */
async function readJson(request) {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new RequestError(
      415,
      `send the order as JSON (content-type: application/json), not '${type || 'none'}'`,
    );
  }
  const tooLarge = () => new RequestError(413, `the body is over ${maxBodyBytes} bytes`);
  // Refused before reading when the length is declared; a chunked body is cut off when it
  // grows past the limit (the connection is then closed under the client).
  if (Number(request.headers['content-length']) > maxBodyBytes) throw tooLarge();
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > maxBodyBytes) throw tooLarge();
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RequestError(400, 'the body is not valid JSON');
  }
}
