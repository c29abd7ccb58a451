import { strict as assert } from 'node:assert';
import { accessOf, qualifiedResource } from './forbidden';

describe('AksDeploy: the permission a 403 names', () => {
  const cases: [string, ReturnType<typeof accessOf>][] = [
    [
      'PATCH /apis/apps/v1/namespaces/shop/deployments/api',
      { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'shop', name: 'api' },
    ],
    ['GET /api/v1/namespaces/shop/pods', { verb: 'list', group: '', resource: 'pods', namespace: 'shop' }],
    [
      'GET /api/v1/namespaces/shop/pods/api-1/log',
      { verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace: 'shop', name: 'api-1' },
    ],
    [
      'WATCH /apis/apps/v1/namespaces/shop/deployments',
      { verb: 'watch', group: 'apps', resource: 'deployments', namespace: 'shop' },
    ],
    ['GET /api/v1/namespaces/shop', { verb: 'get', group: '', resource: 'namespaces', name: 'shop' }],
    ['PATCH /api/v1/namespaces/shop', { verb: 'patch', group: '', resource: 'namespaces', name: 'shop' }],
    [
      'DELETE /api/v1/namespaces/shop/secrets/a%2Fb',
      { verb: 'delete', group: '', resource: 'secrets', namespace: 'shop', name: 'a/b' },
    ],
    [
      'GET /apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      { verb: 'list', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
    ],
    ['GET /apis/apps/v1', undefined],
    ['GET /openapi/v3', undefined],
  ];
  for (const [operation, expected] of cases) {
    it(operation, () => assert.deepEqual(accessOf(operation), expected));
  }

  it('names a resource as RBAC rules do', () => {
    assert.equal(
      qualifiedResource({ verb: 'patch', group: 'apps', resource: 'deployments' }),
      'deployments.apps',
    );
    assert.equal(
      qualifiedResource({ verb: 'get', group: '', resource: 'pods', subresource: 'log' }),
      'pods/log',
    );
    assert.equal(qualifiedResource({ verb: 'list', group: '', resource: 'secrets' }), 'secrets');
  });
});
