import { strict as assert } from 'node:assert';
import type { PromoteReport } from './promote';
import { platformLabel, promotedArguments, renderSummary, summaryTitle } from './summary';

const digest = (c: string) => `sha256:${c.repeat(64)}`;

const report: PromoteReport = {
  digest: digest('a'),
  mediaType: 'application/vnd.oci.image.index.v1+json',
  children: [
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest('b'), platform: 'linux/amd64' },
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: digest('c'),
      platform: 'linux/arm64/v8',
    },
  ],
  referrers: [
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: digest('d'),
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      subject: digest('a'),
    },
  ],
  manifestsWritten: 4,
  manifestsPresent: 0,
  blobs: {
    copied: 1,
    copiedBytes: 2048,
    mounted: 0,
    mountedBytes: 0,
    present: 3,
    presentBytes: 10,
    resumes: 0,
  },
  tagsWritten: ['1.2.3'],
  tagsUnchanged: [],
  fallbackIndexesWritten: 0,
};

describe('AcrPromoteImage summary', () => {
  it('names each platform one way, as containerd normalises it', () => {
    assert.equal(platformLabel('linux/arm64/v8'), 'linux/arm64');
    assert.equal(platformLabel('linux/arm/v7'), 'linux/arm/v7');
    assert.equal(platformLabel('linux/amd64'), 'linux/amd64');
    assert.equal(platformLabel(undefined), '(none)');
  });

  it('counts in words in the log line', () => {
    assert.deepEqual(promotedArguments(report, 'prod.azurecr.io/shop/api@x'), [
      'prod.azurecr.io/shop/api@x',
      '1 blob',
      '2.0 KiB',
      '0',
      '3',
      '1 referrer',
    ]);
  });

  it('is titled by its target, and its heading says where it ran', () => {
    assert.equal(summaryTitle('contosoprod.azurecr.io'), 'Image promotion to contosoprod.azurecr.io');
    const markdown = renderSummary(report, {
      sourceImage: 'nonprod.azurecr.io/shop/api:1.2.3',
      imageReference: `prod.azurecr.io/shop/api@${digest('a')}`,
      requests: 1,
      retries: 0,
      durationMs: 1200,
      locked: false,
      imported: false,
      place: { stage: 'Promote' },
      targetRegistry: 'prod.azurecr.io',
    });
    assert.match(markdown, /^## Image promoted to prod\.azurecr\.io · stage Promote\n/);
    assert.match(markdown, /\| linux\/arm64 \| `sha256:c{64}` \|/);
    assert.match(markdown, /1 request \(0 retried\) in 1\.2 s\./);
    assert.doesNotMatch(markdown, /arm64\/v8|requests: 1/i);
  });
});
