import assert from 'node:assert/strict';
import type { RetryPolicy } from '../network';
import { parseBearerChallenge, jwtExpiry } from './acr-auth';
import { classify } from './client';
import { parseRetryAfterMs, retryDelayMs, type AttemptOutcome } from '../retry';

const policy: RetryPolicy = { maxRetries: 3, initialDelayMs: 100, maxDelayMs: 300, maxRetryAfterMs: 10_000 };
const now = Date.parse('2026-01-01T00:00:00Z');

describe('registry retry strategy', () => {
  const rows: {
    title: string;
    attempt: number;
    outcome: AttemptOutcome;
    random?: number;
    expected: number | undefined;
  }[] = [
    {
      title: '429 with Retry-After seconds waits that long',
      attempt: 0,
      outcome: { kind: 'response', status: 429, retryAfter: '7' },
      expected: 7000,
    },
    {
      title: '503 with an HTTP-date Retry-After waits until then',
      attempt: 1,
      outcome: { kind: 'response', status: 503, retryAfter: 'Thu, 01 Jan 2026 00:00:03 GMT' },
      expected: 3000,
    },
    {
      title: 'a Retry-After beyond the cap gives up',
      attempt: 0,
      outcome: { kind: 'response', status: 429, retryAfter: '60' },
      expected: undefined,
    },
    {
      title: '429 without Retry-After backs off',
      attempt: 0,
      outcome: { kind: 'response', status: 429 },
      random: 0,
      expected: 50,
    },
    {
      title: '500 backs off with jitter, at most the step',
      attempt: 1,
      outcome: { kind: 'response', status: 500 },
      random: 1,
      expected: 200,
    },
    { title: 'the step is capped', attempt: 2, outcome: { kind: 'networkError' }, random: 1, expected: 300 },
    { title: 'retries are bounded', attempt: 3, outcome: { kind: 'networkError' }, expected: undefined },
    {
      title: '404 is not retried',
      attempt: 0,
      outcome: { kind: 'response', status: 404 },
      expected: undefined,
    },
    {
      title: '401 is not retried',
      attempt: 0,
      outcome: { kind: 'response', status: 401 },
      expected: undefined,
    },
  ];
  for (const row of rows) {
    it(row.title, () => {
      assert.equal(
        retryDelayMs(policy, row.attempt, row.outcome, now, () => row.random ?? 0.5),
        row.expected,
      );
    });
  }

  it('reads Retry-After forms and ignores garbage', () => {
    assert.equal(parseRetryAfterMs('0', now), 0);
    assert.equal(parseRetryAfterMs('soon', now), undefined);
  });
});

describe('registry answers', () => {
  const rows: { status: number; codes: string[]; expected: string }[] = [
    { status: 401, codes: ['UNAUTHORIZED'], expected: 'Denied' },
    { status: 403, codes: ['DENIED'], expected: 'Denied' },
    { status: 404, codes: ['MANIFEST_UNKNOWN'], expected: 'NotFound' },
    { status: 405, codes: ['DENIED'], expected: 'Locked' },
    { status: 405, codes: ['UNSUPPORTED'], expected: 'Unexpected' },
    { status: 429, codes: [], expected: 'Throttled' },
    { status: 503, codes: [], expected: 'Unavailable' },
    { status: 400, codes: ['DIGEST_INVALID'], expected: 'DigestMismatch' },
  ];
  for (const row of rows) {
    it(`reads ${row.status} ${row.codes.join(',')} as ${row.expected}`, () => {
      assert.equal(classify(row.status, row.codes), row.expected);
    });
  }

  it('parses an ACR Bearer challenge', () => {
    const challenge = parseBearerChallenge(
      'Bearer realm="https://contoso.azurecr.io/oauth2/token",service="contoso.azurecr.io",scope="repository:app:pull"',
    );
    assert.equal(challenge?.realm.href, 'https://contoso.azurecr.io/oauth2/token');
    assert.equal(challenge?.service, 'contoso.azurecr.io');
    assert.equal(parseBearerChallenge('Basic realm="x"'), undefined);
  });

  it('reads a JWT expiry and refuses what is not one', () => {
    const token = `e30.${Buffer.from(JSON.stringify({ exp: 1_800_000_000 })).toString('base64url')}.sig`;
    assert.equal(jwtExpiry(token), 1_800_000_000_000);
    assert.equal(jwtExpiry('opaque'), undefined);
  });
});
