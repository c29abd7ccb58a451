import assert from 'node:assert/strict';
import { expandFiles, removeRepositories, type Repositories, type RunOptions } from './testing';

const pipeline = (text: string, more: Record<string, string> = {}): Repositories => ({
  self: { 'azure-pipelines.yml': text, ...more },
});

describe('compile: template expansion', () => {
  after(removeRepositories);

  const cases: [string, Repositories, unknown, RunOptions?][] = [
    [
      'if, elseif and else in a sequence and in a mapping',
      pipeline(`parameters:
- name: stack
  default: dotnet
steps:
- \${{ if eq(parameters.stack, 'node') }}:
  - script: npm ci
- \${{ elseif eq(parameters.stack, 'dotnet') }}:
  - script: dotnet restore
    \${{ if true }}:
      displayName: restore
- \${{ else }}:
  - script: echo none
`),
      { steps: [{ script: 'dotnet restore', displayName: 'restore' }] },
    ],
    [
      'each over a sequence and over a mapping, in a sequence and in a mapping',
      pipeline(`parameters:
- name: names
  type: object
  default: [a, b]
- name: env
  type: object
  default: { A: '1', B: '2' }
steps:
- \${{ each name in parameters.names }}:
  - script: echo \${{ name }}
    env:
      \${{ each pair in parameters.env }}:
        \${{ pair.key }}_\${{ name }}: \${{ pair.value }}
`),
      {
        steps: [
          { script: 'echo a', env: { A_a: '1', B_a: '2' } },
          { script: 'echo b', env: { A_b: '1', B_b: '2' } },
        ],
      },
    ],
    [
      'insert, and a whole-value expression that keeps its type',
      pipeline(`parameters:
- name: extra
  type: object
  default: { condition: 'always()', timeoutInMinutes: 5 }
- name: steps
  type: stepList
  default: [{ script: a }, { script: b }]
- name: flag
  type: boolean
  default: true
steps:
- \${{ parameters.steps }}
- script: c
  \${{ insert }}: \${{ parameters.extra }}
  continueOnError: \${{ parameters.flag }}
  displayName: flag is \${{ parameters.flag }}, \${{ length(parameters.steps) }} steps
`),
      {
        steps: [
          { script: 'a' },
          { script: 'b' },
          {
            script: 'c',
            condition: 'always()',
            timeoutInMinutes: 5,
            continueOnError: true,
            displayName: 'flag is True, 2 steps',
          },
        ],
      },
    ],
    [
      'compile-time variables in scope, in order, with queue-time variables winning',
      pipeline(`variables:
  a: one
  b: \${{ variables.a }}-two
  q: yaml
stages:
- stage: S
  variables:
  - name: c
    value: \${{ variables.b }}-three
  jobs:
  - job: J
    steps:
    - script: echo \${{ variables.c }} \${{ variables.q }} \${{ variables['A'] }}
`),
      {
        variables: { a: 'one', b: 'one-two', q: 'yaml' },
        stages: [
          {
            stage: 'S',
            variables: [{ name: 'c', value: 'one-two-three' }],
            jobs: [{ job: 'J', steps: [{ script: 'echo one-two-three queued one' }] }],
          },
        ],
      },
      { variables: { q: 'queued' } },
    ],
    [
      'step, job and variables templates: relative, from the repository root and from another repository',
      {
        self: {
          'pipelines/azure-pipelines.yml': `resources:
  repositories:
  - repository: tools
    type: git
    name: Platform/tools
variables:
- template: vars.yml
  parameters: { level: 2 }
jobs:
- template: /templates/jobs.yml
  parameters:
    steps:
    - template: steps.yml@tools
      parameters:
        who: caller
`,
          'pipelines/vars.yml': `parameters:
- name: level
  type: number
variables:
  level: \${{ parameters.level }}
`,
          'templates/jobs.yml': `parameters:
- name: steps
  type: stepList
jobs:
- job: build
  steps: \${{ parameters.steps }}
`,
        },
        tools: {
          'steps.yml': `parameters:
- name: who
steps:
- template: nested/more.yml
  parameters:
    who: \${{ parameters.who }}
`,
          'nested/more.yml': `parameters:
- name: who
steps:
- script: echo hello \${{ parameters.who }}
`,
        },
      },
      {
        resources: { repositories: [{ repository: 'tools', type: 'git', name: 'Platform/tools' }] },
        variables: [{ name: 'level', value: 2 }],
        jobs: [{ job: 'build', steps: [{ script: 'echo hello caller' }] }],
      },
      { file: 'pipelines/azure-pipelines.yml' },
    ],
    [
      'extends: the template brings the stages, the pipeline keeps its trigger and variables',
      pipeline(
        `trigger: none
variables:
  fromPipeline: p
extends:
  template: base.yml
  parameters:
    greeting: hi
`,
        {
          'base.yml': `parameters:
- name: greeting
trigger: [main]
variables:
  fromTemplate: \${{ variables.fromPipeline }}
stages:
- stage: only
  jobs:
  - job: j
    steps:
    - script: echo \${{ parameters.greeting }}
`,
        },
      ),
      {
        trigger: 'none',
        variables: [
          { name: 'fromPipeline', value: 'p' },
          { name: 'fromTemplate', value: 'p' },
        ],
        stages: [{ stage: 'only', jobs: [{ job: 'j', steps: [{ script: 'echo hi' }] }] }],
      },
    ],
    [
      'runtime parameters typed from --param text',
      pipeline(`parameters:
- name: count
  type: number
  default: 1
- name: go
  type: boolean
  default: false
- name: list
  type: object
  default: []
steps:
- script: echo \${{ parameters.count }} \${{ parameters.go }} \${{ join(',', parameters.list) }}
`),
      { steps: [{ script: 'echo 3 True x,y' }] },
      { parameters: { count: '3', go: 'TRUE', list: '[x, y]' } },
    ],
  ];
  for (const [name, repositories, expected, run] of cases) {
    it(name, () => assert.deepEqual(expandFiles(repositories, run), expected));
  }

  const mistakes: [string, Repositories, string[], RunOptions?][] = [
    [
      'every problem at once, each at its line',
      pipeline(`steps:
- script: echo \${{ noSuch }}
- script: \${{ if true }}
- script: echo \${{ if true }}
- \${{ else }}:
  - script: x
- script: \${{ and(succeeded(), true) }}
`),
      [
        "/azure-pipelines.yml (Line: 2, Col: 11): Unrecognized value: 'noSuch'. Located at position 1 within expression: noSuch.",
        "/azure-pipelines.yml (Line: 3, Col: 11): The expression directive 'if' is not supported in this context",
        "/azure-pipelines.yml (Line: 4, Col: 11): The directive 'if' is not allowed in this context. Directives are not supported for expressions that are embedded within a string. Directives are only supported when the entire value is an expression.",
        '/azure-pipelines.yml (Line: 5, Col: 3): ${{ else }} must follow ${{ if }} or ${{ elseif }} in the same list',
        "/azure-pipelines.yml (Line: 7, Col: 11): Unrecognized value: 'succeeded'. Located at position 5 within expression: and(succeeded(), true).",
      ],
    ],
    [
      "template parameters, in the service's words, at the template reference and the value",
      pipeline(
        `steps:
- template: t.yml
  parameters:
    flag: maybe
    size: 10m
    colour: green
    typo: x
`,
        {
          't.yml': `parameters:
- name: needed
- name: flag
  type: boolean
- name: size
  type: number
- name: colour
  values: [red, blue]
- name: steps
  type: stepList
  default: [npm test]
steps:
- script: echo \${{ parameters.nede }}
`,
        },
      ),
      [
        "/azure-pipelines.yml (Line: 7, Col: 5): Unexpected parameter 'typo'",
        "/azure-pipelines.yml (Line: 2, Col: 3): A value for the 'needed' parameter must be provided.",
        "/azure-pipelines.yml (Line: 4, Col: 11): The 'flag' parameter is not a valid Boolean.",
        "/azure-pipelines.yml (Line: 5, Col: 11): The 'size' parameter is not a valid Number.",
        "/azure-pipelines.yml (Line: 6, Col: 13): The 'colour' parameter value 'green' is not a valid value.",
        "/t.yml (Line: 11, Col: 12): The 'steps' parameter is not a valid StepList.",
        "/t.yml (Line: 13, Col: 11): Unrecognized parameter 'nede' in ${{ parameters.nede }}: /t.yml has no such parameter (declared: needed, flag, size, colour, steps)",
      ],
    ],
    [
      'repositories that are not declared or not mapped, a missing file, a runtime macro in a path',
      {
        self: {
          'azure-pipelines.yml': `resources:
  repositories:
  - repository: away
    type: git
    name: P/away
steps:
- template: a.yml@nowhere
- template: a.yml@away
- template: missing.yml
- template: $(path).yml
`,
        },
        away: { 'a.yml': 'steps: []\n' },
      },
      [
        "/azure-pipelines.yml (Line: 7, Col: 3): Template a.yml@nowhere names repository 'nowhere', which resources.repositories does not declare: add it there, or use a path in this repository",
        "/azure-pipelines.yml (Line: 8, Col: 3): Template a.yml@away names repository 'away', which is not mapped to a local folder: name its folder for 'away' in the runner's resources file",
        '/azure-pipelines.yml (Line: 9, Col: 3): File /missing.yml not found in repository self (looked for ',
        "/azure-pipelines.yml (Line: 10, Col: 13): Template paths are resolved at compile time, before any variable has a run-time value: '$(path).yml' uses a macro or a runtime expression; use a literal path or ${{ }} with parameters or variables",
      ],
      { unmapped: ['away'] },
    ],
    [
      'a template that includes itself stops at 20 levels of nesting',
      pipeline('steps:\n- template: loop.yml\n', {
        'loop.yml': 'steps:\n- script: x\n- template: loop.yml\n',
      }),
      [
        '/loop.yml (Line: 3, Col: 3): Maximum template nesting exceeded: including loop.yml would nest templates 21 levels deep; Azure Pipelines allows 20. A template that includes itself never ends.',
      ],
    ],
    [
      'at most 100 YAML files',
      pipeline(
        `steps:\n${Array.from({ length: 101 }, (_, index) => `- template: t${index}.yml\n`).join('')}`,
        Object.fromEntries(Array.from({ length: 101 }, (_, index) => [`t${index}.yml`, 'steps: []\n'])),
      ),
      [
        '/azure-pipelines.yml (Line: 102, Col: 3): Maximum number of YAML files exceeded: /t100.yml would be file 101 included by this pipeline; Azure Pipelines allows 100.',
      ],
    ],
    [
      'at most 10 MB of YAML read and expanded',
      pipeline('steps:\n- template: big.yml\n- template: big.yml\n', {
        'big.yml': `steps:\n- script: ${'x'.repeat(3 * 1024 * 1024)}\n`,
      }),
      [
        '/big.yml (Line: 2, Col: 11): Maximum memory exceeded: the YAML read and expanded so far passes 10 MB while expanding /big.yml; Azure Pipelines stops at 10 MB. Include fewer or smaller templates.',
      ],
    ],
    [
      'YAML the service refuses: duplicate keys and anchors',
      pipeline('steps:\n- script: a\n  script: b\n'),
      ["/azure-pipelines.yml (Line: 3, Col: 3): 'script' is already defined"],
    ],
  ];
  for (const [name, repositories, expected, run] of mistakes) {
    it(`reports ${name}`, () => {
      const problems = expandFiles(repositories, run) as string[];
      assert.ok(Array.isArray(problems), 'expected problems');
      assert.equal(problems.length, expected.length, problems.join('\n'));
      expected.forEach((line, index) =>
        assert.ok(problems[index].startsWith(line), `${problems[index]}\n  expected\n${line}`),
      );
    });
  }
});
