import assert from 'node:assert/strict';
import { variableNameFor, type Naming } from './naming';

describe('KeyVaultSecrets naming', () => {
  const cases: { name: string; naming: Naming; expected: string }[] = [
    { name: 'db-password', naming: { mode: 'asIs', prefix: '' }, expected: 'db-password' },
    { name: 'db-password', naming: { mode: 'upperSnake', prefix: '' }, expected: 'DB_PASSWORD' },
    { name: 'dbPassword', naming: { mode: 'upperSnake', prefix: '' }, expected: 'DB_PASSWORD' },
    { name: 'api-key2', naming: { mode: 'upperSnake', prefix: '' }, expected: 'API_KEY2' },
    { name: 'db-password', naming: { mode: 'prefix', prefix: 'KV_' }, expected: 'KV_db-password' },
  ];
  for (const { name, naming, expected } of cases) {
    it(`${naming.mode}: ${name} -> ${expected}`, () => assert.equal(variableNameFor(name, naming), expected));
  }
});
