import { strict as assert } from 'node:assert';
import { healthMetric, healthMetrics, kqlString, type MetricScope } from './health-catalog';

const scope: MetricScope = {
  cluster: { cluster: 'aks-staging', namespace: 'shop', podTemplateHashes: ['5d8f', '7c9a'] },
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
      if (metric.source === 'Container Insights') {
        // Each finds the release's pods itself: one round trip.
        assert.match(
          query,
          /KubePodInventory\n\| where ClusterName =~ 'aks-staging' and Namespace == 'shop'\n\| where PodLabel has_any \('5d8f', '7c9a'\)/,
          metric.name,
        );
      } else assert.match(query, /AppRoleName == 'orders' and AppVersion == '1\.4\.2'/, metric.name);
    }
  });

  it("scopes a baseline's Container Insights query to every pod of the namespace", () => {
    const baseline: MetricScope = { ...scope, cluster: { cluster: 'aks-staging', namespace: 'shop' } };
    for (const metric of healthMetrics.filter((each) => each.source === 'Container Insights')) {
      const query = metric.query(baseline);
      assert.match(query, /Namespace == 'shop'/, metric.name);
      assert.doesNotMatch(query, /has_any/, metric.name);
    }
  });

  it('counts the release pods as the samples of its Container Insights counts, so that unseen pods are no data', () => {
    for (const name of ['warningEvents', 'errorLogLines']) {
      const metric = healthMetric(name)!;
      assert.equal(metric.absentMeansZero, false, name);
      assert.match(metric.query(scope), /\| extend samples = toscalar\(releasePods \| count\)$/, name);
    }
    assert.equal(healthMetric('exceptions')?.absentMeansZero, true);
  });

  it('names each metric once', () => {
    assert.equal(new Set(healthMetrics.map((metric) => metric.name)).size, healthMetrics.length);
    assert.equal(healthMetric('restarts')?.source, 'Container Insights');
    assert.equal(healthMetric('nope'), undefined);
  });
});
