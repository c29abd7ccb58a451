import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { taskData } from './definitions';
import { runDownloadPipelineArtifact, runPublishPipelineArtifact } from './pipeline-artifacts';
import { createTestContext, type TestContext } from './testing/context';

const publish = taskData('PublishPipelineArtifact', 1);
const download = taskData('DownloadPipelineArtifact', 2);

function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

function filesUnder(root: string, prefix = ''): string[] {
  return readdirSync(join(root, prefix), { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory() ? filesUnder(root, join(prefix, entry.name)) : [join(prefix, entry.name)],
    )
    .sort();
}

describe('PublishPipelineArtifact@1 and DownloadPipelineArtifact@2', () => {
  let job: TestContext | undefined;
  afterEach(() => job?.dispose());

  it('publishes a folder and downloads one named artifact straight into the target path', async () => {
    job = createTestContext({ definition: publish, inputs: { targetPath: 'out/image', artifact: 'image' } });
    writeTree(join(job.workingDirectory, 'out', 'image'), {
      digest: 'sha256:abc\n',
      'nested/reference': 'r\n',
    });
    assert.deepEqual(await runPublishPipelineArtifact(job.context), { status: 'Succeeded' });
    assert.deepEqual(job.lines, [
      `Uploading pipeline artifact from ${join(job.workingDirectory, 'out', 'image')} for build #42`,
      `Published '${join(job.workingDirectory, 'out', 'image')}' as artifact 'image'`,
      'Uploading pipeline artifact finished.',
    ]);

    const target = join(job.dirs.workspace, 'image');
    const step = createTestContext({
      definition: download,
      inputs: { artifact: 'image', path: target },
      sameJobAs: job,
    });
    assert.deepEqual(await runDownloadPipelineArtifact(step.context), { status: 'Succeeded' });
    assert.deepEqual(filesUnder(target), ['digest', 'nested/reference']);
    assert.equal(readFileSync(join(target, 'digest'), 'utf8'), 'sha256:abc\n');
  });

  it('downloads every artifact into a folder of its own, filtered by patterns', async () => {
    job = createTestContext({ definition: publish, inputs: { targetPath: 'a', artifact: 'first' } });
    writeTree(job.workingDirectory, { 'a/one.yaml': '1', 'a/one.txt': 'x', 'b/two.yaml': '2' });
    await runPublishPipelineArtifact(job.context);
    await runPublishPipelineArtifact(
      createTestContext({
        definition: publish,
        inputs: { targetPath: 'b', artifact: 'second' },
        sameJobAs: job,
      }).context,
    );
    const target = join(job.dirs.workspace, 'all');
    const step = createTestContext({
      definition: download,
      inputs: { path: target, patterns: '**/*.yaml' },
      sameJobAs: job,
    });
    assert.deepEqual(await runDownloadPipelineArtifact(step.context), { status: 'Succeeded' });
    assert.deepEqual(filesUnder(target), ['first/one.yaml', 'second/two.yaml']);
    assert.ok(step.lines.includes('Downloading 2 pipeline artifacts...'));
  });

  it('downloads from a pipeline resource run (buildType specific)', async () => {
    job = createTestContext({ definition: download });
    const seed = mkdtempSync(join(tmpdir(), 'seed-'));
    try {
      writeTree(seed, { 'deployment.yaml': 'kind: Deployment\n' });
      job.artifacts.seed({ kind: 'pipeline', definition: 'ci', runId: '77' }, 'manifests', seed);
    } finally {
      rmSync(seed, { recursive: true, force: true });
    }
    const target = join(job.dirs.workspace, 'ci', 'manifests');
    const step = createTestContext({
      definition: download,
      inputs: {
        buildType: 'specific',
        definition: 'ci',
        buildVersionToDownload: 'specific',
        pipelineId: '77',
        artifactName: 'manifests',
        targetPath: target,
      },
      sameJobAs: job,
    });
    assert.deepEqual(await runDownloadPipelineArtifact(step.context), { status: 'Succeeded' });
    assert.deepEqual(filesUnder(target), ['deployment.yaml']);
    assert.deepEqual(step.lines.slice(0, 2), [
      'Download from the specified build: #77',
      '##vso[task.setvariable variable=BuildNumber;isOutput=false;issecret=false;]77',
    ]);
  });

  it('names the artifacts the run has when the one asked for is missing', async () => {
    job = createTestContext({ definition: publish, inputs: { targetPath: '.', artifact: 'manifests' } });
    writeTree(job.workingDirectory, { 'x.yaml': 'x' });
    await runPublishPipelineArtifact(job.context);
    const step = createTestContext({ definition: download, inputs: { artifact: 'image' }, sameJobAs: job });
    assert.deepEqual(await runDownloadPipelineArtifact(step.context), {
      status: 'Failed',
      message:
        "Artifact 'image' was not found in this run: it has manifests. Fix the artifact name, or publish it in an earlier step or stage.",
    });
  });

  it('refuses a second artifact of the same name, a missing path, filepath, and a bad name, each in one line', async () => {
    job = createTestContext({ definition: publish, inputs: { targetPath: '.', artifact: 'drop' } });
    await runPublishPipelineArtifact(job.context);
    const again = await runPublishPipelineArtifact(job.context);
    assert.match(again.message ?? '', /^An artifact named 'drop' was already published in this run/);
    const missing = createTestContext({
      definition: publish,
      inputs: { targetPath: 'nope', artifact: 'x' },
      sameJobAs: job,
    });
    assert.match(
      (await runPublishPipelineArtifact(missing.context)).message ?? '',
      /^Path does not exist: .*nope\. Create it/,
    );
    const share = createTestContext({
      definition: publish,
      inputs: { publishLocation: 'filepath' },
      sameJobAs: job,
    });
    assert.match(
      (await runPublishPipelineArtifact(share.context)).message ?? '',
      /^publishLocation: filepath/,
    );
    const bad = createTestContext({ definition: publish, inputs: { artifact: 'a/b' }, sameJobAs: job });
    assert.match(
      (await runPublishPipelineArtifact(bad.context)).message ?? '',
      /^Artifact name is not valid: a\/b\./,
    );
  });

  it('names an unnamed artifact after the job, as the plugin does', async () => {
    job = createTestContext({
      definition: publish,
      inputs: { targetPath: '.' },
      variables: { 'System.JobIdentifier': 'Image.build_push.default' },
    });
    assert.equal((await runPublishPipelineArtifact(job.context)).status, 'Succeeded');
    assert.deepEqual(await job.artifacts.list({ kind: 'current' }), ['Image.buildpush']);
  });
});
