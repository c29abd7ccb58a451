import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Ajv from 'ajv';
import JSZip from 'jszip';

/**
 * The quality gate every task.json passes, in its source form (tasks/<Task>/task.json)
 * and as built (dist/tasks/<Task>/task.json, with the shared messages merged in), plus
 * the checks that tie it to the code and to the packaged vsix. Run `npm run build`
 * first when running this file alone.
 */

const root = path.resolve(__dirname, '..');
const tasksDir = path.join(root, 'tasks');
const sharedDir = path.join(tasksDir, 'shared');
// The official schema lives beside the project, never copied into it.
const schemaPath = path.resolve(root, '..', 'shared', 'schemas', 'tasks.schema.json');

/**
 * Every task's GUID, pinned. A GUID never changes once shipped: pipelines and the
 * agent's task cache know a task by it. A new task must be added here.
 */
const pinnedTaskIds: Readonly<Record<string, string>> = {
  KeyVaultSecrets: 'f97f0e5b-8b70-47f8-b775-ec7b53e7c1f0',
  AcrPromoteImage: '355aa81a-81ce-4bc2-86e2-01914878803c',
  AksDeploy: 'fb6b5673-f7b4-4fea-b218-73306d410f3f',
  AcceptanceGate: '5fa6abd5-9355-4d3e-8a20-55b3ef699f68',
};

/** The first agent with the Node20_1 handler; Node24 came in 4.265.1, and the agent picks the newest it has. */
const minimumAgentVersion = '3.232.1';
const requiredHandlers = ['Node20_1', 'Node24'];
const executionPhases = ['prejobexecution', 'execution', 'postjobexecution'] as const;

interface TaskInput {
  name: string;
  type: string;
  validation?: { expression: string; message: string };
  label?: string;
  helpMarkDown?: string;
  defaultValue?: string | boolean;
  groupName?: string;
  visibleRule?: string;
  options?: Record<string, string>;
  properties?: Record<string, unknown>;
}

interface TaskJson {
  id: string;
  name: string;
  friendlyName: string;
  helpUrl?: string;
  helpMarkDown?: string;
  instanceNameFormat?: string;
  dataSourceBindings?: {
    target: string;
    endpointId: string;
    endpointUrl?: string;
    resultTemplate?: string;
  }[];
  minimumAgentVersion?: string;
  groups?: { name: string; visibleRule?: string }[];
  inputs?: TaskInput[];
  prejobexecution?: Record<string, { target: string }>;
  execution?: Record<string, { target: string }>;
  postjobexecution?: Record<string, { target: string }>;
  messages?: Record<string, string>;
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function taskNames(): string[] {
  return readdirSync(tasksDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(tasksDir, entry.name, 'task.json')))
    .map((entry) => entry.name)
    .sort();
}

function builtTaskJsonPath(task: string): string {
  return path.join(root, 'dist', 'tasks', task, 'task.json');
}

/** The schema as published is draft-04; Ajv reads it as draft-07, which it matches once the draft-04 `id` goes. */
function compileTaskJsonValidator() {
  type InputsSchema = { items: { properties: Record<string, unknown> } };
  const schema = readJson<{ $schema?: string; id?: string; properties: { inputs: InputsSchema } }>(
    schemaPath,
  );
  delete schema.$schema;
  delete schema.id;
  // Azure Pipelines also accepts a per-input `validation` the published schema lacks.
  schema.properties.inputs.items.properties.validation = {
    type: 'object',
    additionalProperties: false,
    required: ['expression', 'message'],
    properties: { expression: { type: 'string' }, message: { type: 'string' } },
  };
  // Its patterns are written for JavaScript's non-unicode RegExp (`\:` is no escape under /u).
  // `defaultValue` is typed string-or-boolean there, which Ajv's strict mode wants allowed.
  return new Ajv({ allErrors: true, unicodeRegExp: false, allowUnionTypes: true }).compile(schema);
}

/** The operators a visibleRule clause may use (the task editor's own list). */
const visibleRuleClause =
  /^\s*([A-Za-z][A-Za-z0-9]*)\s*(==|=|!=|<=|>=|<|>|NotContains|NotStartsWith|NotEndsWith|Contains|StartsWith|EndsWith)\s*(\S.*?)\s*$/;

/** The input names a visibleRule such as `a = b && c != "" || d NotEndsWith x` refers to; throws if a clause does not parse. */
function inputsNamedBy(rule: string): string[] {
  return rule.split(/&&|\|\|/).map((clause) => {
    const match = visibleRuleClause.exec(clause);
    if (!match)
      throw new Error(`visibleRule clause '${clause.trim()}' in '${rule}' is not "<input> <op> <value>"`);
    return match[1]!;
  });
}

const validateTaskJson = compileTaskJsonValidator();

/**
 * The whole-number inputs and the range each task accepts (what its code passes to
 * `integer()`): the task assistant's validation must accept exactly these.
 */
const numericInputs: Readonly<Record<string, Readonly<Record<string, readonly [number, number]>>>> = {
  KeyVaultSecrets: { concurrency: [1, 64] },
  AksDeploy: { rolloutTimeout: [0, 86400] },
  AcceptanceGate: {
    minPassRate: [0, 100],
    readinessTimeoutSeconds: [1, 3600],
    retryFailed: [0, 5],
    concurrencyPerHost: [1, 64],
    testTimeoutMinutes: [1, 1440],
  },
};

/** The regular expression of an `isMatch(value, '<regex>', '<options>')` validation, as JavaScript reads it. */
function validationPattern(expression: string): RegExp {
  const match = /^isMatch\(value, '((?:[^']|'')*)', '(Multiline|IgnoreCase)'\)$/.exec(expression);
  assert.ok(match, `not an isMatch expression: ${expression}`);
  return new RegExp(match[1]!.replace(/''/g, "'"), match[2] === 'IgnoreCase' ? 'i' : 'm');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function compareVersions(a: string, b: string): number {
  const [pa, pb] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (pa![i]! !== pb![i]!) return pa![i]! - pb![i]!;
  return 0;
}

/** Non-test TypeScript files under `dir`, recursively. */
function codeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/**
 * Message keys the code looks up: `loc('Key'` (task-lib's tl.loc), `new TaskError('Key'`
 * (rendered through loc by the task shell) and `key: 'Key'` (a message chosen now and
 * rendered later, such as a verdict's reasons). These must exist.
 */
function messageKeysLookedUp(files: string[]): Map<string, string> {
  const uses = new Map<string, string>();
  const lookups = /\b(?:(?:loc|new\s+TaskError)\(\s*|key:\s*)['"]([A-Za-z0-9_]+)['"]/g;
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(lookups)) {
      if (!uses.has(match[1]!)) uses.set(match[1]!, path.relative(root, file));
    }
  }
  return uses;
}

/**
 * The keys of `messages` that appear nowhere in the code as a quoted string. Any quoted
 * mention counts as a use, which also covers keys picked from a table (say, per error code).
 */
function unusedKeys(messages: Record<string, string>, files: string[]): string[] {
  const code = files.map((file) => readFileSync(file, 'utf8')).join('\n');
  return Object.keys(messages).filter((key) => !new RegExp(`['"\`]${key}['"\`]`).test(code));
}

function handlerTargets(taskJson: TaskJson): string[] {
  return executionPhases.flatMap((phase) => Object.values(taskJson[phase] ?? {}).map((h) => h.target));
}

describe('task.json quality gate', () => {
  const tasks = taskNames();
  const forms = tasks.flatMap((task) => [
    { label: `tasks/${task}/task.json`, task, file: path.join(tasksDir, task, 'task.json') },
    { label: `dist/tasks/${task}/task.json`, task, file: builtTaskJsonPath(task) },
  ]);

  before(function () {
    if (tasks.some((task) => !existsSync(builtTaskJsonPath(task)))) {
      this.timeout(120_000);
      execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
    }
  });

  it('has a schema check that rejects what the schema forbids', () => {
    const valid = { id: pinnedTaskIds.KeyVaultSecrets, name: 'Sample', friendlyName: 'Sample', inputs: [] };
    const input = { name: 'sample', type: 'string', label: 'Sample' };
    const table: [string, unknown, boolean][] = [
      ['a minimal task', valid, true],
      ['an unknown property', { ...valid, unknownProperty: 1 }, false],
      ['a name with a space', { ...valid, name: 'Two words' }, false],
      [
        'an input validation',
        { ...valid, inputs: [{ ...input, validation: { expression: 'x', message: 'y' } }] },
        true,
      ],
      [
        'an input validation without its message',
        { ...valid, inputs: [{ ...input, validation: { expression: 'x' } }] },
        false,
      ],
    ];
    for (const [what, taskJson, expected] of table) assert.equal(validateTaskJson(taskJson), expected, what);
  });

  it('reads the input names out of visibleRules', () => {
    const table: [string, string[]][] = [
      ['variableNames = prefix', ['variableNames']],
      ['exportFile != ""', ['exportFile']],
      ['a = b && c != "" || d NotEndsWith x', ['a', 'c', 'd']],
      ['mode == fast || depth >= 3', ['mode', 'depth']],
    ];
    for (const [rule, names] of table) assert.deepEqual(inputsNamedBy(rule), names, rule);
    assert.throws(() => inputsNamedBy('a = b && = c'), /not "<input> <op> <value>"/);
  });

  it('finds the message keys code uses, the ways tasks use them', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'task-json-keys-'));
    try {
      const file = path.join(dir, 'sample.ts');
      writeFileSync(
        file,
        [
          "// The vault's name doesn't resolve: an apostrophe in a comment must not confuse the scan.",
          "tl.loc('Looked', name);",
          'throw new TaskError(',
          "  'Thrown', [name]);",
          "reasons.push({ key: 'Later', args: [] });",
          "const byCode = { '403': `FromTable` };",
        ].join('\n'),
      );
      assert.deepEqual([...messageKeysLookedUp([file]).keys()], ['Looked', 'Thrown', 'Later']);
      const messages = { Looked: '', Thrown: '', Later: '', FromTable: '', Orphan: '' };
      assert.deepEqual(unusedKeys(messages, [file]), ['Orphan']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the tasks', () => {
    assert.ok(tasks.length > 0, 'no tasks/<Task>/task.json found');
  });

  it('pins every task to its GUID, and no two tasks share one', () => {
    for (const task of tasks) {
      const { id, name } = readJson<TaskJson>(path.join(tasksDir, task, 'task.json'));
      assert.ok(task in pinnedTaskIds, `${task} is new: add its GUID to pinnedTaskIds in this test`);
      assert.equal(id, pinnedTaskIds[task], `${task}'s GUID changed; a shipped task's GUID never changes`);
      assert.equal(name, task, `tasks/${task}/task.json's name must be its folder's name`);
    }
    const ids = tasks.map((task) => readJson<TaskJson>(path.join(tasksDir, task, 'task.json')).id);
    assert.equal(new Set(ids.map((id) => id.toLowerCase())).size, ids.length, 'two tasks share a GUID');
  });

  for (const { label, file } of forms) {
    describe(label, () => {
      let taskJson: TaskJson;
      before(() => {
        taskJson = readJson<TaskJson>(file);
      });

      it('matches the official task.json schema', () => {
        assert.ok(validateTaskJson(taskJson), JSON.stringify(validateTaskJson.errors, null, 2));
      });

      it('has a friendlyName of at most 40 characters', () => {
        assert.ok(taskJson.friendlyName.length <= 40, `"${taskJson.friendlyName}" is too long`);
      });

      it('gives every input a label and help with an example', () => {
        for (const input of taskJson.inputs ?? []) {
          assert.ok(input.label?.trim(), `${input.name}: no label`);
          assert.ok(input.helpMarkDown?.trim(), `${input.name}: no helpMarkDown`);
          assert.match(
            input.helpMarkDown!,
            /for example|e\.g\.|`[^`]+`/i,
            `${input.name}: helpMarkDown has no example ("for example", "e.g." or a backticked value)`,
          );
        }
      });

      it('has visibleRules that name only real inputs', () => {
        const names = new Set((taskJson.inputs ?? []).map((input) => input.name));
        const rules = [
          ...(taskJson.inputs ?? []).map((input) => ({
            owner: `input ${input.name}`,
            rule: input.visibleRule,
          })),
          ...(taskJson.groups ?? []).map((group) => ({
            owner: `group ${group.name}`,
            rule: group.visibleRule,
          })),
        ];
        for (const { owner, rule } of rules) {
          if (rule === undefined) continue;
          for (const name of inputsNamedBy(rule)) {
            assert.ok(names.has(name), `${owner}: visibleRule '${rule}' names no input '${name}'`);
          }
        }
      });

      it('has pickList and radio defaults among their options', () => {
        for (const input of taskJson.inputs ?? []) {
          if (input.type !== 'pickList' && input.type !== 'radio') continue;
          const editable = String(input.properties?.EditableOptions ?? '').toLowerCase() === 'true';
          if (editable || input.defaultValue === undefined || input.defaultValue === '') continue;
          const options = Object.keys(input.options ?? {});
          assert.ok(
            options.includes(String(input.defaultValue)),
            `${input.name}: default '${input.defaultValue}' is not one of ${options.join(', ')}`,
          );
        }
      });

      it('puts inputs only in groups that exist', () => {
        const groups = new Set((taskJson.groups ?? []).map((group) => group.name));
        for (const input of taskJson.inputs ?? []) {
          if (input.groupName !== undefined) {
            assert.ok(groups.has(input.groupName), `${input.name}: no group '${input.groupName}'`);
          }
        }
      });

      it('runs on Node 20 and Node 24, with the agent version that has both', () => {
        assert.ok(taskJson.execution, 'no execution section');
        for (const phase of executionPhases) {
          const handlers = taskJson[phase];
          if (handlers === undefined) continue;
          for (const handler of requiredHandlers) assert.ok(handler in handlers, `${phase} lacks ${handler}`);
        }
        assert.ok(taskJson.minimumAgentVersion, 'no minimumAgentVersion');
        assert.ok(
          compareVersions(taskJson.minimumAgentVersion!, minimumAgentVersion) >= 0,
          `minimumAgentVersion ${taskJson.minimumAgentVersion} is older than ${minimumAgentVersion}, the first with Node20_1`,
        );
      });
    });
  }

  describe('the task assistant', () => {
    const packageJson = readJson<{ homepage?: string; repository?: { url?: string } }>(
      path.join(root, 'package.json'),
    );
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const anchors = new Set([...readme.matchAll(/^#{1,6} (.+)$/gm)].map((match) => headingAnchor(match[1]!)));

    it('reads README anchors the way GitHub writes them', () => {
      assert.equal(headingAnchor('KeyVaultSecrets@1'), 'keyvaultsecrets1');
      assert.equal(headingAnchor('What AcceptanceGate@1 refuses'), 'what-acceptancegate1-refuses');
    });

    for (const task of tasks) {
      const taskJson = () => readJson<TaskJson>(path.join(tasksDir, task, 'task.json'));

      it(`${task}: has a helpUrl and a Learn more link to its section of the README in the repository`, () => {
        const { helpUrl, helpMarkDown } = taskJson();
        const repository = packageJson.repository?.url;
        assert.ok(repository, 'package.json has no repository.url');
        assert.ok(
          helpUrl?.startsWith(`${repository}#`),
          `${task}: helpUrl '${helpUrl}' is not ${repository}#<anchor>`,
        );
        const anchor = helpUrl!.slice(repository.length + 1);
        assert.ok(anchors.has(anchor), `${task}: the README has no heading with the anchor #${anchor}`);
        assert.ok(
          helpMarkDown?.endsWith(`[Learn more](${helpUrl})`),
          `${task}: helpMarkDown ends without a Learn more link`,
        );
      });

      it(`${task}: validates every whole-number input in the task assistant, accepting exactly its range`, () => {
        const ranges = numericInputs[task] ?? {};
        const inputs = taskJson().inputs ?? [];
        for (const [name, [min, max]] of Object.entries(ranges)) {
          const input = inputs.find((each) => each.name === name);
          assert.ok(input?.validation, `${task}.${name} has no validation`);
          assert.match(
            input.validation.message,
            new RegExp(`from ${min} to ${max}\\b`),
            `${task}.${name}: message`,
          );
          const pattern = validationPattern(input.validation.expression);
          for (let value = min - 1; value <= max + 1; value++) {
            assert.equal(
              pattern.test(String(value)),
              value >= min && value <= max,
              `${task}.${name}: ${value}`,
            );
          }
          for (const bad of ['', 'ten', '1.5', '01', '+1', ' 1', `${max}0`])
            assert.equal(pattern.test(bad), false, `${task}.${name} accepts '${bad}'`);
        }
      });

      it(`${task}: has short help: no "Example: \`true\`." on a boolean, and a short step name`, () => {
        const { inputs = [], instanceNameFormat = '' } = taskJson();
        for (const input of inputs) {
          if (input.type === 'boolean') assert.doesNotMatch(input.helpMarkDown ?? '', /Example:/, input.name);
          assert.ok(
            (input.helpMarkDown ?? '').length <= 400,
            `${task}.${input.name}: help over 400 characters`,
          );
        }
        // A multi-line input in the step's name makes a name of several lines (a glob list, a script).
        for (const macro of instanceNameFormat.matchAll(/\$\(([^)]+)\)/g)) {
          const input = inputs.find((each) => each.name === macro[1]);
          assert.notEqual(
            input?.type,
            'multiLine',
            `instanceNameFormat uses the multi-line input ${macro[1]}`,
          );
        }
      });
    }

    it('AcrPromoteImage: offers the registries of each connection, and takes any other typed in', () => {
      const { inputs = [], dataSourceBindings = [] } = readJson<TaskJson>(
        path.join(tasksDir, 'AcrPromoteImage', 'task.json'),
      );
      for (const [registry, connection] of [
        ['sourceRegistry', 'sourceConnection'],
        ['targetRegistry', 'targetConnection'],
      ] as const) {
        const input = inputs.find((each) => each.name === registry);
        assert.equal(input?.type, 'pickList', registry);
        assert.equal(input?.properties?.EditableOptions, 'True', `${registry} is editable`);
        const binding = dataSourceBindings.find((each) => each.target === registry);
        assert.equal(binding?.endpointId, `$(${connection})`, registry);
        assert.match(
          binding?.endpointUrl ?? '',
          /\/providers\/Microsoft\.ContainerRegistry\/registries\?api-version=/,
        );
        assert.match(binding?.resultTemplate ?? '', /"Value" : "\{\{\{properties\.loginServer\}\}\}"/);
      }
    });
  });

  describe('messages', () => {
    const sharedMessages = readJson<Record<string, string>>(path.join(sharedDir, 'messages.json'));
    const sharedCode = codeFiles(sharedDir);

    it('has every key the shared code looks up in tasks/shared/messages.json', () => {
      for (const [key, where] of messageKeysLookedUp(sharedCode)) {
        assert.ok(key in sharedMessages, `${where} uses '${key}', missing from tasks/shared/messages.json`);
      }
    });

    it('uses every key in tasks/shared/messages.json, in shared or task code', () => {
      // Every task's task.json carries the shared messages, so a task may use one too.
      assert.deepEqual(
        unusedKeys(sharedMessages, codeFiles(tasksDir)),
        [],
        'unused shared messages: remove them or use them',
      );
    });

    for (const task of taskNames()) {
      const ownCode = () => codeFiles(path.join(tasksDir, task));

      it(`${task}: has every key its code looks up in the built task.json`, () => {
        const messages = readJson<TaskJson>(builtTaskJsonPath(task)).messages ?? {};
        for (const [key, where] of messageKeysLookedUp(ownCode())) {
          assert.ok(key in messages, `${where} uses '${key}', missing from ${task}/task.json messages`);
        }
      });

      it(`${task}: uses every key in its task.json messages`, () => {
        const own = readJson<TaskJson>(path.join(tasksDir, task, 'task.json')).messages ?? {};
        assert.deepEqual(
          unusedKeys(own, ownCode()),
          [],
          `unused messages in ${task}/task.json: remove them or use them`,
        );
      });
    }
  });

  describe('the packaged vsix', () => {
    let outDir: string;
    let zip: JSZip;

    before(async function () {
      this.timeout(120_000);
      outDir = mkdtempSync(path.join(tmpdir(), 'task-json-vsix-'));
      execFileSync(process.execPath, [path.join(root, 'scripts', 'package.mjs'), '--out-dir', outDir], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const vsix = readdirSync(outDir).find((file) => file.endsWith('.vsix'));
      assert.ok(vsix, 'package.mjs wrote no .vsix');
      zip = await JSZip.loadAsync(readFileSync(path.join(outDir, vsix)));
    });

    after(() => rmSync(outDir, { recursive: true, force: true }));

    it('holds every execution target of every task', async () => {
      for (const task of taskNames()) {
        const entry = zip.file(`${task}/task.json`);
        assert.ok(entry, `${task}/task.json is not in the vsix`);
        const packaged = JSON.parse(await entry.async('string')) as TaskJson;
        for (const target of new Set(handlerTargets(packaged))) {
          assert.ok(
            zip.file(`${task}/${target}`),
            `${task}/${target} (an execution target) is not in the vsix`,
          );
        }
      }
    });
  });
});
