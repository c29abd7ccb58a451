import assert from 'node:assert/strict';
import { RestError } from '@azure/core-rest-pipeline';
import { TaskError } from '../shared/task-error';
import { classifyVaultError, failureMessage, type VaultFailure } from './failures';
import { VaultGaveUp, VaultHostNotFound } from './vault';

function restError(status: number, code: string, message: string, inner?: string): RestError {
  const error = new RestError(message, { statusCode: status, code });
  if (inner) Object.assign(error, { details: { error: { code, message, innerError: { code: inner } } } });
  return error;
}

describe('KeyVaultSecrets failures', () => {
  const cases: { name: string; error: unknown; kind: VaultFailure['kind'] }[] = [
    {
      name: 'secret not found',
      error: restError(404, 'SecretNotFound', 'A secret with (name/id) x was not found'),
      kind: 'secretNotFound',
    },
    {
      name: 'unknown host answered 404',
      error: restError(404, 'NotFound', 'No such vault'),
      kind: 'vaultNotFound',
    },
    {
      name: 'disabled',
      error: restError(
        403,
        'Forbidden',
        'Operation get is not allowed on a disabled secret.',
        'SecretDisabled',
      ),
      kind: 'disabled',
    },
    {
      name: 'rbac',
      error: restError(
        403,
        'Forbidden',
        'Caller is not authorized to perform action on resource.',
        'ForbiddenByRbac',
      ),
      kind: 'rbacDenied',
    },
    {
      name: 'access policy',
      error: restError(
        403,
        'Forbidden',
        "The user, group or application 'x' does not have secrets list permission on key vault 'kv'.",
        'AccessDenied',
      ),
      kind: 'policyDenied',
    },
    {
      name: 'firewall',
      error: restError(
        403,
        'Forbidden',
        'Client address is not authorized and caller is not a trusted service.',
        'ForbiddenByFirewall',
      ),
      kind: 'firewall',
    },
    // Later pages lose the inner error; the message text still tells.
    {
      name: 'rbac on a later page',
      error: restError(
        403,
        'Forbidden',
        'Caller is not authorized to perform action on resource.\r\nCaller: x',
      ),
      kind: 'rbacDenied',
    },
    {
      name: 'firewall on a later page',
      error: restError(
        403,
        'Forbidden',
        'Client address is not authorized and caller is not a trusted service.',
      ),
      kind: 'firewall',
    },
    { name: 'throttled to the end', error: restError(429, 'TooManyRequests', 'slow down'), kind: 'gaveUp' },
    { name: 'server errors to the end', error: restError(503, 'ServiceUnavailable', 'busy'), kind: 'gaveUp' },
    {
      name: 'dropped connections to the end',
      error: new RestError('socket hang up', { code: 'ECONNRESET' }),
      kind: 'gaveUp',
    },
    { name: 'deadline', error: new VaultGaveUp('503', 1000), kind: 'gaveUp' },
    { name: 'unknown host', error: new VaultHostNotFound('nope.vault.azure.net'), kind: 'vaultNotFound' },
    {
      name: 'DNS failure as the SDK reports it',
      error: new RestError('getaddrinfo ENOTFOUND', { code: 'ENOTFOUND' }),
      kind: 'vaultNotFound',
    },
    {
      name: 'sign-in',
      error: Object.assign(new Error('AADSTS7000215'), { name: 'AuthenticationError' }),
      kind: 'signIn',
    },
    {
      name: 'unauthorized',
      error: restError(401, 'Unauthorized', 'AKV10032: Invalid issuer.'),
      kind: 'unauthorized',
    },
    { name: 'anything else', error: restError(400, 'BadParameter', 'nope'), kind: 'other' },
  ];
  for (const { name, error, kind } of cases) {
    it(`classifies ${name}`, () => assert.equal(classifyVaultError(error, 'kv1.vault.azure.net').kind, kind));
  }

  it('names the role for RBAC, and says List is only for wildcards', () => {
    const signIn = () => new TaskError('SignInFailed');
    const list = failureMessage(
      { kind: 'rbacDenied' },
      { vaultName: 'kv1', operation: 'list', wildcardRules: ['app-*'] },
      signIn,
    );
    assert.deepEqual([list.key, ...list.args], ['RbacDeniedList', 'kv1', 'app-*']);
    const get = failureMessage(
      { kind: 'rbacDenied' },
      { vaultName: 'kv1', operation: 'get', secretName: 's' },
      signIn,
    );
    assert.deepEqual([get.key, ...get.args], ['RbacDeniedGet', 's', 'kv1']);
    const version = failureMessage(
      { kind: 'secretNotFound' },
      { vaultName: 'kv1', operation: 'get', secretName: 's', version: 'v' },
      signIn,
    );
    assert.equal(version.key, 'SecretVersionNotFound');
    assert.equal(
      failureMessage({ kind: 'signIn', cause: 1 }, { vaultName: 'kv1', operation: 'get' }, signIn).key,
      'SignInFailed',
    );
  });
});
