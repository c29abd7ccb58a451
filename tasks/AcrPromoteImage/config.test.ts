import assert from 'node:assert/strict';
import { TaskError } from '../shared/task-error';
import { chooseMethod, parseConfig, parseImageReference, parseRegistry, type RawInputs } from './config';

const digest = `sha256:${'ab'.repeat(32)}`;

describe('AcrPromoteImage config', () => {
  const references = [
    { text: 'app:1.0', expected: { repository: 'app', tag: '1.0' } },
    { text: 'shop/api:v2_rc-1', expected: { repository: 'shop/api', tag: 'v2_rc-1' } },
    { text: `app@${digest}`, expected: { repository: 'app', digest } },
    { text: `app:1.0@${digest}`, expected: { repository: 'app', tag: '1.0', digest } },
    { text: 'a_b__c-d/e.f:latest', expected: { repository: 'a_b__c-d/e.f', tag: 'latest' } },
  ];
  for (const row of references) {
    it(`parses ${row.text}`, () => assert.deepEqual(parseImageReference(row.text), row.expected));
  }

  const badReferences = [
    { text: 'app', key: 'BadImageReference' },
    { text: 'App:1', key: 'BadImageReference' },
    { text: 'app:', key: 'BadImageReference' },
    { text: 'app:.hidden', key: 'BadImageReference' },
    { text: 'app@sha256:1234', key: 'BadImageReference' },
    { text: `app@${digest}@${digest}`, key: 'BadImageReference' },
    { text: 'contoso.azurecr.io/app:1', key: 'ImageReferenceHasRegistry' },
    { text: 'localhost:5000/app:1', key: 'ImageReferenceHasRegistry' },
  ];
  for (const row of badReferences) {
    it(`rejects the reference ${row.text} with ${row.key}`, () => {
      assert.throws(
        () => parseImageReference(row.text),
        (error: unknown) => (error as TaskError).key === row.key,
      );
    });
  }

  const registries = [
    { text: 'contoso', environment: 'AzureCloud', expected: 'contoso.azurecr.io' },
    { text: 'Contoso', environment: 'AzureUSGovernment', expected: 'contoso.azurecr.us' },
    { text: 'contoso.azurecr.io', environment: 'AzureCloud', expected: 'contoso.azurecr.io' },
    { text: 'https://contoso.azurecr.io/', environment: 'AzureCloud', expected: 'contoso.azurecr.io' },
    { text: 'registry.example:5000', environment: 'AzureStack', expected: 'registry.example:5000' },
    { text: 'localhost:5000', environment: 'AzureCloud', expected: 'localhost:5000' },
  ];
  for (const row of registries) {
    it(`reads the registry ${row.text} (${row.environment})`, () => {
      assert.equal(parseRegistry('targetRegistry', row.text, row.environment), row.expected);
    });
  }

  const badRegistries = [
    { text: 'contoso', environment: 'AzureStack', key: 'RegistryNameNeedsLoginServer' },
    { text: 'not a registry', environment: 'AzureCloud', key: 'BadRegistry' },
    { text: 'abc', environment: 'AzureCloud', key: 'BadRegistry' },
    { text: 'host:99999', environment: 'AzureCloud', key: 'BadRegistry' },
    { text: `${'a'.repeat(64)}.example`, environment: 'AzureCloud', key: 'BadRegistry' },
    { text: `${'abc.'.repeat(70)}example`, environment: 'AzureCloud', key: 'BadRegistry' },
    { text: 'contoso.azurecr.cn', environment: 'AzureCloud', key: 'RegistryInOtherCloud' },
    { text: 'https://contoso.azurecr.io/', environment: 'AzureChinaCloud', key: 'RegistryInOtherCloud' },
    { text: 'contoso.azurecr.us:443', environment: 'AzureStack', key: 'RegistryInOtherCloud' },
  ];
  for (const row of badRegistries) {
    it(`rejects the registry '${row.text}' with ${row.key}`, () => {
      assert.throws(
        () => parseRegistry('targetRegistry', row.text, row.environment),
        (error: unknown) => (error as TaskError).key === row.key,
      );
    });
  }

  it('says which cloud a registry of another cloud is in, and which connection input to change', () => {
    assert.throws(
      () => parseRegistry('targetRegistry', 'contoso.azurecr.cn', 'AzureCloud'),
      (error: unknown) =>
        error instanceof TaskError &&
        error.args.join('|') ===
          'targetRegistry|contoso.azurecr.cn|AzureChinaCloud|AzureCloud|targetConnection|AzureChinaCloud',
    );
  });

  it('quotes at most 200 characters of a huge value', () => {
    const huge = `${'a b '.repeat(30_000)}`;
    for (const parse of [
      () => parseRegistry('sourceRegistry', huge, 'AzureCloud'),
      () => parseImageReference(huge),
    ]) {
      assert.throws(parse, (error: unknown) =>
        (error as TaskError).args.every((arg) => String(arg).length < 240),
      );
    }
  });

  const base: RawInputs = {
    sourceRegistry: 'contosononprod',
    sourceImage: 'shop/api:1.4.2',
    targetRegistry: 'contosoprod',
    targetTags: [],
    copyReferrers: true,
    overwriteTags: false,
    lockAfterPromotion: false,
    method: 'auto',
    sourceEnvironment: 'AzureCloud',
    targetEnvironment: 'AzureCloud',
  };

  it('defaults the target repository and tag to the source', () => {
    const config = parseConfig(base);
    assert.deepEqual(config.request.target, {
      registry: 'contosoprod.azurecr.io',
      repository: 'shop/api',
      tags: ['1.4.2'],
    });
  });

  const badConfigs: { title: string; raw: Partial<RawInputs>; key: string }[] = [
    { title: 'no tag anywhere', raw: { sourceImage: `shop/api@${digest}` }, key: 'NoTargetTags' },
    {
      title: 'the same source and target',
      raw: { targetRegistry: 'contosononprod' },
      key: 'SameSourceAndTarget',
    },
    { title: 'a bad target tag', raw: { targetTags: ['ok', '-no'] }, key: 'BadTag' },
    { title: 'a bad target repository', raw: { targetRepository: 'Shop/API' }, key: 'BadRepository' },
  ];
  for (const row of badConfigs) {
    it(`rejects ${row.title}`, () => {
      assert.throws(
        () => parseConfig({ ...base, ...row.raw }),
        (error: unknown) => (error as TaskError).key === row.key,
      );
    });
  }

  const methodRows: {
    title: string;
    raw: Partial<RawInputs>;
    method: RawInputs['method'];
    subscriptions: boolean;
    expected: string;
  }[] = [
    {
      title: 'auto imports between two ACRs of one cloud',
      raw: {},
      method: 'auto',
      subscriptions: true,
      expected: 'import',
    },
    {
      title: 'auto copies without subscriptions to find them in',
      raw: {},
      method: 'auto',
      subscriptions: false,
      expected: 'copy',
    },
    {
      title: 'auto copies from a registry that is not an ACR',
      raw: { sourceRegistry: 'registry.example:5000' },
      method: 'auto',
      subscriptions: true,
      expected: 'copy',
    },
    {
      title: 'auto copies across clouds',
      raw: { targetRegistry: 'contosoprod.azurecr.us', targetEnvironment: 'AzureUSGovernment' },
      method: 'auto',
      subscriptions: true,
      expected: 'copy',
    },
    { title: 'copy is copy', raw: {}, method: 'copy', subscriptions: true, expected: 'copy' },
    { title: 'import is import', raw: {}, method: 'import', subscriptions: false, expected: 'import' },
  ];
  for (const row of methodRows) {
    it(row.title, () => {
      const raw = { ...base, ...row.raw };
      assert.equal(
        chooseMethod(row.method, parseConfig(raw), raw.targetEnvironment, row.subscriptions),
        row.expected,
      );
    });
  }
});
