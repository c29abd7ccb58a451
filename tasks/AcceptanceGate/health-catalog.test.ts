import { strict as assert } from 'node:assert';
import { healthMetric, healthMetrics, kqlString, releasePodsQuery, type MetricScope } from './health-catalog';

const scope: MetricScope = {
  cluster: { cluster: 'aks-staging', namespace: 'shop', pods: [{ name: 'api-5d8f-x1', uid: 'u-1' }] },
  app: { roleName: 'orders', version: '1.4.2' },
  errorLogPattern: '(?i)error',
};

describe('health catalog', () => {
  it('quotes KQL strings so that a quote or backslash in a value cannot end them', () => {
    assert.equal(kqlString("it's"), "'it\\'s'");
    assert.equal(kqlString('a\\b'), "'a\\\\b'");
  });

  it('answers every metric with its own column and samples, scoped to the release', () => {
    for (const metric of healthMetrics) {
      const query = metric.query(scope);
      assert.match(query, new RegExp(`${metric.name} = `), metric.name);
      assert.match(query, /samples = /, metric.name);
      if (metric.source === 'Container Insights') assert.match(query, /api-5d8f-x1|u-1/, metric.name);
      else assert.match(query, /AppRoleName == 'orders' and AppVersion == '1\.4\.2'/, metric.name);
    }
  });

  it('finds the release pods by the hashes in their labels', () => {
    assert.match(releasePodsQuery('c', 'ns', ['5d8f', '7c9a']), /PodLabel has_any \('5d8f', '7c9a'\)/);
  });

  it('names each metric once', () => {
    assert.equal(new Set(healthMetrics.map((metric) => metric.name)).size, healthMetrics.length);
    assert.equal(healthMetric('restarts')?.source, 'Container Insights');
    assert.equal(healthMetric('nope'), undefined);
  });
});
