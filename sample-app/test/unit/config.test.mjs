import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig, parseConnectionString } from '../../src/config.mjs';

const key = '8f1c0e2a-9b8d-4c6e-8f0a-1b2c3d4e5f60';
const valid = `InstrumentationKey=${key};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/`;

describe('parseConfig', () => {
  it('has defaults for everything', () => {
    assert.deepEqual(parseConfig({}), {
      port: 8080,
      environment: 'unnamed',
      appInsights: undefined,
      failChecks: false,
    });
  });

  it('reads PORT, ENVIRONMENT and ORDERS_FAIL_CHECKS', () => {
    const config = parseConfig({ PORT: '0', ENVIRONMENT: 'staging', ORDERS_FAIL_CHECKS: 'TRUE' });
    assert.deepEqual(config, { port: 0, environment: 'staging', appInsights: undefined, failChecks: true });
  });

  for (const [name, env, message] of [
    [
      'a port that is not a number',
      { PORT: 'http' },
      /^PORT is 'http', not a port number: set it to an integer from 0 to 65535/,
    ],
    ['a port out of range', { PORT: '65536' }, /^PORT is '65536'/],
    [
      'an unknown switch value',
      { ORDERS_FAIL_CHECKS: 'yes' },
      /^ORDERS_FAIL_CHECKS is 'yes': set it to 1 or true/,
    ],
  ]) {
    it(`refuses ${name} with one line`, () => {
      assert.throws(
        () => parseConfig(env),
        (error) =>
          error instanceof ConfigError && message.test(error.message) && !error.message.includes('\n'),
      );
    });
  }
});

describe('parseConnectionString', () => {
  it('returns the ingestion endpoint', () => {
    assert.deepEqual(parseConnectionString(valid), {
      ingestionEndpoint: 'https://westeurope-5.in.applicationinsights.azure.com/',
    });
  });

  it('takes keys in any case, a trailing semicolon, and no endpoint (the documented default)', () => {
    assert.deepEqual(parseConnectionString(`instrumentationkey=${key};`), {
      ingestionEndpoint: 'https://dc.services.visualstudio.com/',
    });
  });

  for (const [name, text, problem] of [
    ['empty', '', 'it is empty'],
    ['without a key', 'IngestionEndpoint=https://example.test/', 'it has no InstrumentationKey'],
    [
      'with a key that is not a GUID',
      'InstrumentationKey=s3cr3t-not-a-guid',
      'its InstrumentationKey is not a GUID',
    ],
    ['with a part that is not Key=value', `InstrumentationKey=${key};s3cr3t`, 'part 2 of 2 is not Key=value'],
    [
      'with an endpoint that is not a URL',
      `InstrumentationKey=${key};IngestionEndpoint=s3cr3t`,
      'its IngestionEndpoint is not an http(s) URL',
    ],
  ]) {
    it(`refuses one ${name}, naming the problem but never the value`, () => {
      assert.throws(
        () => parseConnectionString(text),
        (error) => {
          assert.ok(error instanceof ConfigError);
          assert.match(
            error.message,
            new RegExp(
              `^APPLICATIONINSIGHTS_CONNECTION_STRING is malformed: ${problem.replace(/[()]/g, '\\$&')}\\. Copy it from`,
            ),
          );
          assert.doesNotMatch(error.message, /s3cr3t/);
          return true;
        },
      );
    });
  }
});
