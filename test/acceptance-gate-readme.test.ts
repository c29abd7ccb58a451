import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  defaultErrorLogPattern,
  healthMetrics,
  type MetricScope,
} from '../tasks/AcceptanceGate/health-catalog';

/**
 * The README's gate section shows the KQL of every health metric: it must be the KQL the
 * gate sends, for the example scope the README names.
 */
describe("README: the gate's health metrics and their KQL", () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Health: metrics, thresholds and the verdict'));
  const scope: MetricScope = {
    cluster: { cluster: 'aks-staging', namespace: 'shop', podTemplateHashes: ['5d8f9c7b4'] },
    app: { roleName: 'orders-api', version: '1.4.2' },
    errorLogPattern: defaultErrorLogPattern,
  };
  /** The first kql block after `marker`. */
  const kqlAfter = (marker: string): string | undefined => {
    const at = section.indexOf(marker);
    if (at < 0) return undefined;
    return /```kql\n([\s\S]*?)\n```/.exec(section.slice(at))?.[1];
  };

  for (const metric of healthMetrics) {
    it(`shows ${metric.name}: what it measures, and the exact query`, () => {
      assert.ok(
        section.includes(`**\`${metric.name}\`** (${metric.source}): ${metric.description}`),
        metric.name,
      );
      assert.equal(kqlAfter(`**\`${metric.name}\`**`), metric.query(scope));
    });
  }
});
