import { strict as assert } from 'node:assert';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createTestCertificateAuthority } from '../../../test/emulators/certificates';
import { startConnectProxy, type ConnectProxy } from '../../../test/support/connect-proxy';
import type { RetryPolicy } from '../network';
import { KubernetesApiError, KubernetesClient, KubernetesUnreachableError, type WatchEvent } from './client';

type Step = (req: IncomingMessage, res: ServerResponse) => void;

const policy: RetryPolicy = { maxRetries: 3, initialDelayMs: 100, maxDelayMs: 400, maxRetryAfterMs: 30_000 };

const status = (code: number, reason: string, headers: Record<string, string> = {}): Step => {
  return (_req, res) => {
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason, message: reason, code }));
  };
};
const ok =
  (body: unknown): Step =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
const dropped: Step = (req) => req.socket.destroy();
const configMap = (rv: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', namespace: 'n', resourceVersion: rv },
});
const event = (type: WatchEvent['type'], object: unknown) => JSON.stringify({ type, object }) + '\n';
/** A watch answer that streams `lines` and ends the stream cleanly, as a server's timeoutSeconds does. */
const stream =
  (...lines: string[]): Step =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    for (const line of lines) res.write(line);
    res.end();
  };
/** A watch answer that streams `lines` and then loses its connection without the final chunk. */
const streamThenDrop =
  (...lines: string[]): Step =>
  (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    for (const line of lines) res.write(line);
    setImmediate(() => req.socket.destroy());
  };

/**
 * The Kubernetes client's retry and watch rules against a scripted HTTPS server on
 * loopback: each request takes the next step of the script, and the client's `wait`
 * records the delays instead of sleeping, so no test waits on a real backoff.
 */
describe('Kubernetes client', function () {
  let server: https.Server;
  let caPem: string;
  let script: Step[] = [];
  let seen: { method: string; url: string; authorization?: string }[] = [];
  let delays: number[] = [];
  let client: KubernetesClient;
  let tokens: boolean[] = [];

  before(async () => {
    const ca = await createTestCertificateAuthority();
    caPem = ca.caPem;
    server = https.createServer({ cert: ca.server.certPem, key: ca.server.keyPem }, (req, res) => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      });
      req.resume();
      const step = script.shift() ?? status(500, 'UnscriptedRequest');
      req.on('end', () => step(req, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ca.dispose();
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    script = [];
    seen = [];
    delays = [];
    tokens = [];
    client = new KubernetesClient(
      {
        server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
        caPem,
        token: async (refresh) => {
          tokens.push(refresh);
          return refresh ? 'fresh-token' : 'cached-token';
        },
      },
      {
        network: {} as never,
        retry: policy,
        wait: async (ms) => {
          delays.push(ms);
        },
      },
    );
  });
  afterEach(() => client.close());

  const get = () =>
    client.request({ method: 'GET', path: '/api/v1/namespaces/n/configmaps/c', idempotent: true });
  const post = () =>
    client.request({ method: 'POST', path: '/api/v1/namespaces/n/configmaps', body: {}, idempotent: false });

  describe('retries', () => {
    it('waits what a 429 asks in Retry-After, then succeeds', async () => {
      script = [status(429, 'TooManyRequests', { 'retry-after': '3' }), ok(configMap('7'))];
      const { body } = await get();
      assert.equal(body.metadata.resourceVersion, '7');
      assert.deepEqual(delays, [3000]);
      assert.equal(client.stats.retries, 1);
    });

    it('backs off on 5xx within the policy, and gives up after maxRetries with the last status', async () => {
      script = [500, 502, 503, 504].map((code) => status(code, `Status${code}`));
      await assert.rejects(get(), (error: unknown) => {
        assert.ok(error instanceof KubernetesApiError);
        assert.equal(error.status, 504);
        return true;
      });
      assert.equal(seen.length, policy.maxRetries + 1);
      assert.equal(delays.length, policy.maxRetries);
      delays.forEach((delay, attempt) => {
        const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** attempt);
        assert.ok(delay >= ceiling / 2 && delay <= ceiling, `attempt ${attempt}: ${delay} ms`);
      });
    });

    it('fails at once when Retry-After asks for more than the policy allows', async () => {
      script = [status(429, 'TooManyRequests', { 'retry-after': '120' }), ok(configMap('1'))];
      await assert.rejects(
        get(),
        (error: unknown) => error instanceof KubernetesApiError && error.status === 429,
      );
      assert.equal(seen.length, 1);
      assert.deepEqual(delays, []);
    });

    it('sends a read again after a dropped connection', async () => {
      script = [dropped, ok(configMap('9'))];
      const { body } = await get();
      assert.equal(body.metadata.resourceVersion, '9');
      assert.equal(seen.length, 2);
      assert.equal(delays.length, 1);
    });

    it('never resends a write that is not idempotent: not after 503, not after a dropped connection', async () => {
      const cases: { title: string; step: Step; error: (e: unknown) => boolean }[] = [
        {
          title: '503',
          step: status(503, 'ServiceUnavailable', { 'retry-after': '1' }),
          error: (e) => e instanceof KubernetesApiError && e.status === 503,
        },
        { title: 'dropped', step: dropped, error: (e) => e instanceof KubernetesUnreachableError },
      ];
      for (const { title, step, error } of cases) {
        seen = [];
        delays = [];
        script = [step, ok(configMap('1'))];
        await assert.rejects(post(), error, title);
        assert.equal(seen.length, 1, title);
        assert.deepEqual(delays, [], title);
        script = [];
      }
    });

    it('retries idempotent verbs: server-side apply and delete by name', async () => {
      for (const method of ['PATCH', 'DELETE'] as const) {
        script = [status(503, 'ServiceUnavailable'), ok(configMap('2'))];
        await client.request({
          method,
          path: '/api/v1/namespaces/n/configmaps/c',
          body: {},
          idempotent: true,
        });
      }
      assert.deepEqual(
        seen.map((s) => s.method),
        ['PATCH', 'PATCH', 'DELETE', 'DELETE'],
      );
    });

    it('asks for a fresh token once on 401, and a second 401 is the answer', async () => {
      script = [status(401, 'Unauthorized'), ok(configMap('3'))];
      await get();
      assert.deepEqual(tokens, [false, true]);
      assert.deepEqual(
        seen.map((s) => s.authorization),
        ['Bearer cached-token', 'Bearer fresh-token'],
      );
      script = [status(401, 'Unauthorized'), status(401, 'Unauthorized'), ok(configMap('4'))];
      await assert.rejects(
        get(),
        (error: unknown) => error instanceof KubernetesApiError && error.status === 401,
      );
      assert.deepEqual(delays, []);
    });
  });

  describe('watch', () => {
    /** Follows until `count` events arrived, then stops; returns the events and the watch URLs asked for. */
    async function follow(count: number, relist: () => Promise<string> = async () => 'relisted') {
      const events: WatchEvent[] = [];
      const controller = new AbortController();
      const relists: number[] = [];
      await client.follow(
        '/api/v1/namespaces/n/configmaps',
        '10',
        (e) => {
          events.push(e);
          if (events.length === count) controller.abort();
        },
        controller.signal,
        async () => {
          relists.push(seen.length);
          return relist();
        },
      );
      const watched = seen.map((s) => new URL(s.url, 'https://x').searchParams);
      return { events, relists, watched };
    }
    const versions = (params: URLSearchParams[]) => params.map((p) => p.get('resourceVersion'));

    it('reopens a stream the server ended from the last resourceVersion, bookmarks included', async () => {
      script = [
        stream(event('ADDED', configMap('11')), event('MODIFIED', configMap('12'))),
        stream(event('BOOKMARK', { kind: 'ConfigMap', metadata: { resourceVersion: '15' } })),
        stream(event('MODIFIED', configMap('16'))),
      ];
      const { events, watched } = await follow(3);
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.object.metadata.resourceVersion}`),
        ['ADDED 11', 'MODIFIED 12', 'MODIFIED 16'],
      );
      assert.deepEqual(versions(watched), ['10', '12', '15']);
      assert.ok(watched.every((p) => p.get('watch') === '1' && p.get('allowWatchBookmarks') === 'true'));
      assert.deepEqual(delays, []);
    });

    it('reconnects after a dropped stream from the last resourceVersion, after a backoff', async () => {
      script = [
        streamThenDrop(event('ADDED', configMap('11'))),
        dropped,
        stream(event('MODIFIED', configMap('13'))),
      ];
      const { events, watched } = await follow(2);
      assert.deepEqual(
        events.map((e) => e.object.metadata.resourceVersion),
        ['11', '13'],
      );
      assert.deepEqual(versions(watched), ['10', '11', '11']);
      assert.equal(delays.length, 2);
      // The second drop came with no event in between, so it backs off further.
      assert.ok(delays[1]! >= policy.initialDelayMs, `${delays}`);
    });

    it('relists after 410 Gone, as an ERROR event or as the answer, and watches from the new version', async () => {
      let version = 20;
      script = [
        stream(event('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' })),
        status(410, 'Gone'),
        stream(event('MODIFIED', configMap('31'))),
      ];
      const { events, relists, watched } = await follow(1, async () => String(++version));
      assert.deepEqual(versions(watched), ['10', '21', '22']);
      assert.equal(relists.length, 2);
      assert.equal(events.length, 1);
      assert.deepEqual(delays, []);
    });

    it('honours Retry-After on a throttled watch, and gives up on a status that is no transient', async () => {
      script = [
        status(429, 'TooManyRequests', { 'retry-after': '2' }),
        stream(event('ADDED', configMap('11'))),
      ];
      await follow(1);
      assert.deepEqual(delays, [2000]);
      seen = [];
      script = [status(403, 'Forbidden')];
      await assert.rejects(
        follow(1),
        (error: unknown) => error instanceof KubernetesApiError && error.status === 403,
      );
      assert.equal(seen.length, 1);
    });

    it('stops after maxRetries drops in a row', async () => {
      script = Array.from({ length: policy.maxRetries + 1 }, () => dropped);
      await assert.rejects(follow(1), KubernetesUnreachableError);
      assert.equal(seen.length, policy.maxRetries + 1);
      assert.equal(delays.length, policy.maxRetries);
    });

    it('ends quietly when the caller aborts mid-stream', async () => {
      const controller = new AbortController();
      script = [
        (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write(event('ADDED', configMap('11')));
        },
      ];
      const events: WatchEvent[] = [];
      await client.follow(
        '/api/v1/namespaces/n/configmaps',
        '10',
        (e) => {
          events.push(e);
          controller.abort();
        },
        controller.signal,
        async () => '',
      );
      assert.equal(events.length, 1);
    });
  });
});

/**
 * AKS admin credentials are a client certificate: the API server must see it whether
 * the agent reaches the cluster directly or through its proxy.
 */
describe('Kubernetes client with a client certificate', function () {
  let server: https.Server;
  let caPem: string;
  let client: { certPem: string; keyPem: string };
  let proxy: ConnectProxy;
  const subjects: string[] = [];

  before(async () => {
    const ca = await createTestCertificateAuthority();
    caPem = ca.caPem;
    client = await ca.issue(['cluster-admin'], { usage: 'client', commonName: 'cluster-admin' });
    server = https.createServer(
      {
        cert: ca.server.certPem,
        key: ca.server.keyPem,
        ca: [ca.caPem],
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        subjects.push(String((req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(configMap('1')));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ca.dispose();
    proxy = await startConnectProxy({ credentials: { username: 'agent', password: 'proxy-pass' } });
  });
  after(async () => {
    await proxy.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    subjects.length = 0;
    proxy.tunnels.length = 0;
  });

  const read = async (network: object) => {
    const kube = new KubernetesClient(
      {
        server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
        caPem,
        clientCertificatePem: client.certPem,
        clientKeyPem: client.keyPem,
      },
      { network: network as never, retry: { ...policy, maxRetries: 0 } },
    );
    try {
      return await kube.request({
        method: 'GET',
        path: '/api/v1/namespaces/n/configmaps/c',
        idempotent: true,
      });
    } finally {
      kube.close();
    }
  };

  it('presents it on a direct connection', async () => {
    assert.equal((await read({})).status, 200);
    assert.deepEqual(subjects, ['cluster-admin']);
  });

  it('presents it through the agent proxy, with the proxy credentials', async () => {
    const network = { proxy: { url: proxy.url, username: 'agent', password: 'proxy-pass', bypass: [] } };
    assert.equal((await read(network)).status, 200);
    assert.deepEqual(subjects, ['cluster-admin']);
    assert.equal(proxy.tunnels.length, 1);
  });

  it('goes around the proxy for a server on the bypass list', async () => {
    const network = { proxy: { url: proxy.url, bypass: [/127\.0\.0\.1/] } };
    assert.equal((await read(network)).status, 200);
    assert.deepEqual(subjects, ['cluster-admin']);
    assert.deepEqual(proxy.tunnels, []);
  });
});
