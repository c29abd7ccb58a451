import { strict as assert } from 'node:assert';
import { hasFieldPath } from './field-path';

describe('field paths of apply conflicts', () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'api',
      annotations: { 'example.com/owner': 'orders', 'azure-pipelines/run': '20250101.1' },
      finalizers: ['example.com/keep'],
    },
    spec: {
      replicas: 2,
      template: {
        spec: {
          containers: [
            {
              name: 'api',
              image: 'contoso.azurecr.io/api:1',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              env: [{ name: 'MODE', value: 'x' }],
            },
          ],
        },
      },
    },
  };

  it('finds the fields an object holds, in the API server’s notation', () => {
    const table: [string, boolean][] = [
      ['.spec.replicas', true],
      ['.spec.paused', false],
      ['.spec.template.spec.containers[name="api"].image', true],
      ['.spec.template.spec.containers[name="web"].image', false],
      ['.spec.template.spec.containers[name="api"].ports[containerPort=80,protocol="TCP"]', true],
      ['.spec.template.spec.containers[name="api"].ports[containerPort=81,protocol="TCP"]', false],
      ['.spec.template.spec.containers[name="api"].env[name="MODE"].value', true],
      ['.spec.template.spec.containers[0].image', true],
      ['.metadata.annotations.example.com/owner', true],
      ['.metadata.annotations.azure-pipelines/run', true],
      ['.metadata.annotations.example.com/other', false],
      ['.metadata.finalizers[="example.com/keep"]', true],
      ['.metadata.finalizers[="example.com/gone"]', false],
      ['.spec.replicas.nested', false],
      ['spec', false],
      ['.spec.template.spec.containers[name="api"', false],
    ];
    for (const [path, present] of table) assert.equal(hasFieldPath(deployment, path), present, path);
  });
});
