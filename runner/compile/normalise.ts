// The expanded pipeline as the model: `stages:`, `jobs:` (one stage `__default`) or
// `steps:` (one stage, one job `Job`); names, display names and dependsOn with the
// service's defaults; pools inherited; variables, deployment jobs with runOnce's hooks,
// and every step spelt out. What the runner does not support is a problem at its line.
import type {
  AgentJob,
  AgentPool,
  BranchTrigger,
  CompiledPipeline,
  DeploymentHooks,
  DeploymentJob,
  EnvironmentReference,
  Job,
  PipelineResource,
  RepositoryResource,
  ScheduleTrigger,
  ServerJob,
  SourceLocation,
  Stage,
  Step,
  TaskCatalog,
  TaskStep,
  VariableDeclaration,
} from '../model';
import type { ExpressionValue } from '../expressions';
import type { RepositoryFolders } from './files';
import type { Problems } from './problems';
import { NodeReader, type Unsupported } from './read';
import { downloadInputs, hasDownloadStep, readSteps, type StepContext } from './steps';
import { entryOf, isNull, valueOf, type YMapping, type YNode } from './yaml-tree';

/** What normalising needs besides the expanded document. */
export interface NormaliseInput {
  readonly document: YMapping;
  readonly file: string;
  readonly parameters: Readonly<Record<string, ExpressionValue>>;
  readonly repositories: RepositoryFolders;
  readonly problems: Problems;
  readonly catalog?: TaskCatalog;
}

const unsupportedJobKeys: Unsupported = {
  container: 'Container jobs (container:) are not supported by the runner: it runs steps on this machine',
  services: 'Service containers (services:) are not supported by the runner',
};

const lockBehaviors = ['sequential', 'runLatest'] as const;

class Normaliser {
  private readonly reader: NodeReader;
  private readonly steps: StepContext;
  private readonly pipelines: PipelineResource[];
  private readonly repositories: RepositoryResource[];

  constructor(private readonly input: NormaliseInput) {
    this.reader = new NodeReader(input.problems);
    const resources = this.reader.mapping(valueOf(input.document, 'resources'), 'resources');
    this.repositories = this.readRepositories(resources);
    this.pipelines = this.readPipelineResources(resources);
    const declared = new Set(this.repositories.map((repository) => repository.alias));
    this.steps = {
      reader: this.reader,
      checkoutAliases: new Set([...declared].filter((alias) => Object.hasOwn(input.repositories, alias))),
      unmappedAliases: new Set([...declared].filter((alias) => !Object.hasOwn(input.repositories, alias))),
      pipelines: this.pipelines,
      catalog: input.catalog,
    };
  }

  pipeline(): CompiledPipeline {
    const document = this.input.document;
    const reader = this.reader;
    reader.keys(
      document,
      [
        'name',
        'trigger',
        'pr',
        'schedules',
        'resources',
        'variables',
        'stages',
        'jobs',
        'steps',
        'pool',
        'lockBehavior',
        'appendCommitMessageToRunName',
        'workspace',
        'strategy',
        'extends',
      ],
      unsupportedJobKeys,
    );
    const shapes = ['stages', 'jobs', 'steps'].filter((key) => entryOf(document, key));
    if (shapes.length === 0)
      reader.problems.add(document.location, 'A pipeline needs stages:, jobs: or steps:');
    if (shapes.length > 1) {
      reader.problems.add(
        entryOf(document, shapes[1])!.key.location,
        `A pipeline has one of stages:, jobs: or steps:, not ${shapes.join(' and ')}`,
      );
    }
    const pool = this.pool(valueOf(document, 'pool'));
    let stages: Stage[];
    if (shapes[0] === 'stages') {
      for (const key of ['workspace', 'strategy']) {
        const entry = entryOf(document, key);
        if (entry)
          reader.problems.add(
            entry.key.location,
            `Unexpected value '${key}': with stages:, write it on a job`,
          );
      }
      stages = this.stages(valueOf(document, 'stages'), pool);
    } else {
      const jobsNode =
        shapes[0] === 'jobs'
          ? valueOf(document, 'jobs')
          : shapes[0] === 'steps'
            ? ({
                kind: 'sequence',
                items: [this.implicitJob(document)],
                location: document.location,
              } as const)
            : undefined;
      const jobs = this.jobs(jobsNode, pool);
      stages = [
        {
          name: '__default',
          displayName: '__default',
          dependsOn: [],
          variables: [],
          jobs,
          location: document.location,
        },
      ];
    }
    const lockBehavior = this.lockBehavior(valueOf(document, 'lockBehavior'));
    const trigger = this.branchTrigger(valueOf(document, 'trigger'), 'trigger');
    const pr = this.branchTrigger(valueOf(document, 'pr'), 'pr');
    const schedules = this.schedules(valueOf(document, 'schedules'));
    const name = reader.text(valueOf(document, 'name'), 'name');
    return {
      file: this.input.file,
      ...(name ? { name } : {}),
      parameters: this.input.parameters,
      variables: this.variables(valueOf(document, 'variables')),
      repositories: this.repositories,
      pipelines: this.pipelines,
      ...(lockBehavior ? { lockBehavior } : {}),
      stages,
      ...(trigger ? { trigger } : {}),
      ...(pr ? { pr } : {}),
      ...(schedules ? { schedules } : {}),
    };
  }

  // A steps-only pipeline's job, built from the pipeline's job-level keys.
  private implicitJob(document: YMapping): YMapping {
    const keys = ['steps', 'workspace', 'strategy', 'container', 'services'];
    const jobKey = { kind: 'scalar' as const, value: 'Job', text: 'Job', location: document.location };
    return {
      kind: 'mapping',
      entries: [
        { key: { ...jobKey, value: 'job', text: 'job' }, value: jobKey },
        ...document.entries.filter((entry) => keys.includes(entry.key.text)),
      ],
      location: document.location,
    };
  }

  private readRepositories(resources: YMapping | undefined): RepositoryResource[] {
    const reader = this.reader;
    if (resources) {
      reader.keys(resources, ['repositories', 'pipelines'], {
        containers: 'Container resources (resources.containers) are not supported by the runner',
        builds: 'Build resources (resources.builds) are not supported by the runner',
        packages: 'Package resources (resources.packages) are not supported by the runner',
        webhooks: 'Webhook resources (resources.webhooks) are not supported by the runner',
      });
    }
    const self: RepositoryResource = {
      alias: 'self',
      type: 'git',
      name: 'self',
      location: this.input.document.location,
    };
    const list = valueOf(
      resources ?? { kind: 'mapping', entries: [], location: this.input.document.location },
      'repositories',
    );
    if (list === undefined || isNull(list)) return [self];
    if (list.kind !== 'sequence') {
      reader.problems.add(list.location, 'resources.repositories must be a list');
      return [self];
    }
    const repositories = [self];
    for (const item of list.items) {
      const repository = reader.mapping(item, 'A repository resource');
      if (!repository) continue;
      reader.keys(repository, ['repository', 'type', 'name', 'ref', 'endpoint', 'trigger']);
      const alias = reader.text(valueOf(repository, 'repository'), 'repository');
      if (!alias) {
        reader.problems.add(repository.location, 'A repository resource needs repository: <alias>');
        continue;
      }
      const ref = reader.text(valueOf(repository, 'ref'), 'ref');
      repositories.push({
        alias,
        type: reader.text(valueOf(repository, 'type'), 'type') ?? 'git',
        name: reader.text(valueOf(repository, 'name'), 'name') ?? alias,
        ...(ref ? { ref } : {}),
        location: repository.location,
      });
    }
    return repositories;
  }

  private readPipelineResources(resources: YMapping | undefined): PipelineResource[] {
    const reader = this.reader;
    const list = resources ? valueOf(resources, 'pipelines') : undefined;
    if (list === undefined || isNull(list)) return [];
    if (list.kind !== 'sequence') {
      reader.problems.add(list.location, 'resources.pipelines must be a list');
      return [];
    }
    const pipelines: PipelineResource[] = [];
    for (const item of list.items) {
      const resource = reader.mapping(item, 'A pipeline resource');
      if (!resource) continue;
      reader.keys(resource, ['pipeline', 'source', 'project', 'trigger', 'version', 'branch', 'tags']);
      const alias = reader.text(valueOf(resource, 'pipeline'), 'pipeline');
      const source = reader.text(valueOf(resource, 'source'), 'source');
      if (!alias || !source) {
        reader.problems.add(
          resource.location,
          'A pipeline resource needs pipeline: <alias> and source: <pipeline name>',
        );
        continue;
      }
      const project = reader.text(valueOf(resource, 'project'), 'project');
      const trigger = this.resourceTrigger(valueOf(resource, 'trigger'));
      pipelines.push({
        alias,
        source,
        ...(project ? { project } : {}),
        ...(trigger ? { trigger } : {}),
        location: resource.location,
      });
    }
    return pipelines;
  }

  // A pipeline resource's trigger: `true`, `none`, `branches: [...]` or { branches: { include, exclude } }.
  private resourceTrigger(node: YNode | undefined): PipelineResource['trigger'] {
    if (node === undefined || isNull(node)) return undefined;
    if (node.kind === 'scalar') {
      if (/^(none|false)$/i.test(node.text)) return undefined;
      return { include: [], exclude: [] };
    }
    const filters = this.filters(node.kind === 'mapping' ? valueOf(node, 'branches') : node, 'branches');
    return { include: filters.include, exclude: filters.exclude };
  }

  private filters(node: YNode | undefined, what: string): { include: string[]; exclude: string[] } {
    if (node === undefined || isNull(node)) return { include: [], exclude: [] };
    if (node.kind !== 'mapping') return { include: this.reader.textList(node, what) ?? [], exclude: [] };
    return {
      include: this.reader.textList(valueOf(node, 'include'), `${what}.include`) ?? [],
      exclude: this.reader.textList(valueOf(node, 'exclude'), `${what}.exclude`) ?? [],
    };
  }

  private branchTrigger(node: YNode | undefined, what: string): BranchTrigger | undefined {
    if (node === undefined) return undefined;
    const none = { include: [], exclude: [] };
    if (node.kind === 'scalar' && /^(none|false)$/i.test(node.text)) {
      return { enabled: false, branches: none, paths: none, location: node.location };
    }
    if (node.kind === 'mapping') {
      return {
        enabled: true,
        branches: this.filters(valueOf(node, 'branches'), `${what}.branches`),
        paths: this.filters(valueOf(node, 'paths'), `${what}.paths`),
        location: node.location,
      };
    }
    return {
      enabled: true,
      branches: { include: this.reader.textList(node, what) ?? [], exclude: [] },
      paths: none,
      location: node.location,
    };
  }

  private schedules(node: YNode | undefined): ScheduleTrigger[] | undefined {
    if (node === undefined || isNull(node)) return undefined;
    if (node.kind !== 'sequence') {
      this.reader.problems.add(node.location, 'schedules: must be a list');
      return undefined;
    }
    return node.items.flatMap((item) => {
      const schedule = this.reader.mapping(item, 'A schedule');
      const cron = schedule ? this.reader.text(valueOf(schedule, 'cron'), 'cron') : undefined;
      if (!schedule || !cron) return [];
      const displayName = this.reader.text(valueOf(schedule, 'displayName'), 'displayName');
      return [
        {
          cron,
          ...(displayName ? { displayName } : {}),
          branches: this.filters(valueOf(schedule, 'branches'), 'branches'),
          always: this.reader.boolean(valueOf(schedule, 'always'), 'always') ?? false,
          location: schedule.location,
        },
      ];
    });
  }

  private lockBehavior(node: YNode | undefined): 'sequential' | 'runLatest' | undefined {
    const value = this.reader.text(node, 'lockBehavior');
    if (value === undefined || value === '') return undefined;
    if ((lockBehaviors as readonly string[]).includes(value)) return value as 'sequential';
    this.reader.problems.add(node!.location, `lockBehavior must be sequential or runLatest, not '${value}'`);
    return undefined;
  }

  private variables(node: YNode | undefined): VariableDeclaration[] {
    const reader = this.reader;
    if (node === undefined || isNull(node)) return [];
    if (node.kind === 'mapping') {
      return node.entries.flatMap((entry) => {
        const value = reader.text(entry.value, `Variable ${entry.key.text}`);
        return value === undefined
          ? []
          : [
              {
                kind: 'value' as const,
                name: entry.key.text,
                value,
                readonly: false,
                location: entry.key.location,
              },
            ];
      });
    }
    if (node.kind !== 'sequence') {
      reader.problems.add(node.location, 'variables: must be a mapping of name: value or a list');
      return [];
    }
    const declarations: VariableDeclaration[] = [];
    for (const item of node.items) {
      const variable = reader.mapping(item, 'A variable');
      if (!variable) continue;
      if (entryOf(variable, 'template')) continue; // not included: its problem is already recorded
      if (entryOf(variable, 'group')) {
        reader.keys(variable, ['group']);
        const name = reader.text(valueOf(variable, 'group'), 'group');
        if (name) declarations.push({ kind: 'group', name, location: variable.location });
        continue;
      }
      reader.keys(variable, ['name', 'value', 'readonly']);
      const name = reader.text(valueOf(variable, 'name'), 'name');
      if (!name) {
        reader.problems.add(variable.location, 'A variable in list form needs name: (and value:), or group:');
        continue;
      }
      declarations.push({
        kind: 'value',
        name,
        value: reader.text(valueOf(variable, 'value'), `Variable ${name}`) ?? '',
        readonly: reader.boolean(valueOf(variable, 'readonly'), 'readonly') ?? false,
        location: variable.location,
      });
    }
    return declarations;
  }

  // `pool: server`, `pool: <name>` or `pool: { name, vmImage, demands }`.
  private pool(node: YNode | undefined): AgentPool | 'server' | undefined {
    if (node === undefined || isNull(node)) return undefined;
    if (node.kind === 'scalar') return node.text.toLowerCase() === 'server' ? 'server' : { name: node.text };
    const pool = this.reader.mapping(node, 'pool');
    if (!pool) return undefined;
    this.reader.keys(pool, ['name', 'vmImage', 'demands']);
    const name = this.reader.text(valueOf(pool, 'name'), 'pool.name');
    const vmImage = this.reader.text(valueOf(pool, 'vmImage'), 'pool.vmImage');
    const demands = this.reader.textList(valueOf(pool, 'demands'), 'pool.demands');
    return {
      ...(name ? { name } : {}),
      ...(vmImage ? { vmImage } : {}),
      ...(demands?.length ? { demands } : {}),
    };
  }

  private stages(node: YNode | undefined, pool: AgentPool | 'server' | undefined): Stage[] {
    if (node === undefined || isNull(node)) return [];
    if (node.kind !== 'sequence') {
      this.reader.problems.add(node.location, 'stages: must be a list of stages');
      return [];
    }
    const stages: Stage[] = [];
    for (const item of node.items) {
      const stage = this.reader.mapping(item, 'A stage');
      if (!stage || entryOf(stage, 'template')) continue;
      stages.push(this.stage(stage, pool, stages));
    }
    return stages;
  }

  private stage(
    stage: YMapping,
    inherited: AgentPool | 'server' | undefined,
    before: readonly Stage[],
  ): Stage {
    const reader = this.reader;
    reader.keys(
      stage,
      [
        'stage',
        'displayName',
        'dependsOn',
        'condition',
        'variables',
        'jobs',
        'lockBehavior',
        'pool',
        'templateContext',
        'isSkippable',
      ],
      {
        trigger: 'Manual stages (trigger: manual) are not supported by the runner',
      },
    );
    const name =
      reader.text(valueOf(stage, 'stage'), 'stage') ||
      this.defaultName(
        'Stage',
        before.map((s) => s.name),
      );
    const dependsOn = reader.textList(valueOf(stage, 'dependsOn'), 'dependsOn');
    const previous = before[before.length - 1];
    const pool = this.pool(valueOf(stage, 'pool')) ?? inherited;
    const lockBehavior = this.lockBehavior(valueOf(stage, 'lockBehavior'));
    const condition = reader.text(valueOf(stage, 'condition'), 'condition');
    return {
      name,
      displayName: reader.text(valueOf(stage, 'displayName'), 'displayName') || name,
      // An omitted dependsOn is the stage before; `dependsOn: []` is none.
      dependsOn: dependsOn ?? (previous ? [previous.name] : []),
      ...(condition ? { condition } : {}),
      variables: this.variables(valueOf(stage, 'variables')),
      ...(lockBehavior ? { lockBehavior } : {}),
      jobs: this.jobs(valueOf(stage, 'jobs'), pool),
      location: stage.location,
    };
  }

  private defaultName(prefix: string, taken: readonly string[]): string {
    if (!taken.includes(prefix)) return prefix;
    let index = 2;
    while (taken.includes(`${prefix}${index}`)) index++;
    return `${prefix}${index}`;
  }

  private jobs(node: YNode | undefined, pool: AgentPool | 'server' | undefined): Job[] {
    if (node === undefined || isNull(node)) return [];
    if (node.kind !== 'sequence') {
      this.reader.problems.add(node.location, 'jobs: must be a list of jobs');
      return [];
    }
    const jobs: Job[] = [];
    for (const item of node.items) {
      const job = this.reader.mapping(item, 'A job');
      if (!job || entryOf(job, 'template')) continue;
      const made = entryOf(job, 'deployment') ? this.deployment(job, pool, jobs) : this.job(job, pool, jobs);
      if (made) jobs.push(made);
    }
    return jobs;
  }

  private jobBase(job: YMapping, key: 'job' | 'deployment', before: readonly Job[]) {
    const reader = this.reader;
    const name =
      reader.text(valueOf(job, key), key) ||
      this.defaultName(
        'Job',
        before.map((j) => j.name),
      );
    const condition = reader.text(valueOf(job, 'condition'), 'condition');
    const timeoutInMinutes = reader.integer(valueOf(job, 'timeoutInMinutes'), 'timeoutInMinutes');
    const cancelTimeoutInMinutes = reader.integer(
      valueOf(job, 'cancelTimeoutInMinutes'),
      'cancelTimeoutInMinutes',
    );
    return {
      name,
      displayName: reader.text(valueOf(job, 'displayName'), 'displayName') || name,
      // A job's omitted dependsOn is none: jobs run in parallel unless told otherwise.
      dependsOn: reader.textList(valueOf(job, 'dependsOn'), 'dependsOn') ?? [],
      ...(condition ? { condition } : {}),
      variables: this.variables(valueOf(job, 'variables')),
      ...(timeoutInMinutes === undefined ? {} : { timeoutInMinutes }),
      ...(cancelTimeoutInMinutes === undefined ? {} : { cancelTimeoutInMinutes }),
      continueOnError: reader.boolean(valueOf(job, 'continueOnError'), 'continueOnError') ?? false,
      location: job.location,
    };
  }

  private workspaceClean(job: YMapping): AgentJob['workspaceClean'] {
    const workspace = this.reader.mapping(valueOf(job, 'workspace'), 'workspace');
    if (!workspace) return undefined;
    this.reader.keys(workspace, ['clean']);
    const clean = this.reader.text(valueOf(workspace, 'clean'), 'workspace.clean');
    if (clean === undefined || clean === '') return undefined;
    if (['outputs', 'resources', 'all'].includes(clean)) return clean as 'all';
    this.reader.problems.add(
      valueOf(workspace, 'clean')!.location,
      `workspace.clean must be outputs, resources or all, not '${clean}'`,
    );
    return undefined;
  }

  private job(job: YMapping, inherited: AgentPool | 'server' | undefined, before: readonly Job[]): Job {
    const reader = this.reader;
    reader.keys(
      job,
      [
        'job',
        'displayName',
        'dependsOn',
        'condition',
        'continueOnError',
        'timeoutInMinutes',
        'cancelTimeoutInMinutes',
        'variables',
        'pool',
        'workspace',
        'steps',
        'strategy',
        'uses',
        'templateContext',
      ],
      unsupportedJobKeys,
    );
    const base = this.jobBase(job, 'job', before);
    const strategy = reader.mapping(valueOf(job, 'strategy'), 'strategy');
    if (strategy) {
      reader.keys(strategy, ['maxParallel'], {
        matrix: 'strategy: matrix is not supported by the runner: write one job per configuration',
        parallel: 'strategy: parallel (slicing) is not supported by the runner',
      });
    }
    const pool = this.pool(valueOf(job, 'pool')) ?? inherited;
    const steps = readSteps(valueOf(job, 'steps'), this.steps);
    if (pool === 'server') {
      const workspace = entryOf(job, 'workspace');
      if (workspace)
        reader.problems.add(workspace.key.location, 'An agentless job (pool: server) has no workspace');
      const tasks = steps.filter((step): step is TaskStep => {
        if (step.kind === 'task' && step.shorthand === undefined) return true;
        reader.problems.add(
          step.location,
          `${step.kind === 'checkout' ? 'checkout' : (step as TaskStep).shorthand} needs an agent: an agentless job (pool: server) runs only server tasks such as ManualValidation@1`,
        );
        return false;
      });
      const server: ServerJob = { kind: 'server', ...base, steps: tasks };
      return server;
    }
    const workspaceClean = this.workspaceClean(job);
    // An agent job with no checkout step checks out its own repository first.
    const withCheckout: Step[] = steps.some((step) => step.kind === 'checkout')
      ? steps
      : [
          {
            kind: 'checkout',
            repository: 'self',
            displayName: 'Checkout self to s',
            continueOnError: false,
            enabled: true,
            env: {},
            location: job.location,
          },
          ...steps,
        ];
    return {
      kind: 'job',
      ...base,
      pool: pool ?? {},
      steps: withCheckout,
      ...(workspaceClean ? { workspaceClean } : {}),
    };
  }

  private environment(node: YNode | undefined, job: YMapping): EnvironmentReference | undefined {
    const reader = this.reader;
    if (node === undefined || isNull(node)) {
      reader.problems.add(
        job.location,
        `Job ${reader.text(valueOf(job, 'deployment'), 'deployment')}: Environment is required.`,
      );
      return undefined;
    }
    if (node.kind === 'scalar') {
      // `name.resource`: the environment and one of its resources.
      const [name, ...rest] = node.text.split('.');
      return { name, ...(rest.length ? { resourceName: rest.join('.') } : {}), location: node.location };
    }
    const environment = reader.mapping(node, 'environment');
    if (!environment) return undefined;
    reader.keys(environment, ['name', 'resourceName', 'resourceType', 'resourceId', 'tags']);
    const name = reader.text(valueOf(environment, 'name'), 'environment.name');
    if (!name) {
      reader.problems.add(environment.location, 'environment needs name:');
      return undefined;
    }
    const resourceName = reader.text(valueOf(environment, 'resourceName'), 'environment.resourceName');
    const typeText = reader.text(valueOf(environment, 'resourceType'), 'environment.resourceType');
    const resourceType = typeText
      ? ['Kubernetes', 'VirtualMachine'].find((type) => type.toLowerCase() === typeText.toLowerCase())
      : undefined;
    if (typeText && !resourceType) {
      reader.problems.add(
        valueOf(environment, 'resourceType')!.location,
        `environment.resourceType must be Kubernetes or VirtualMachine, not '${typeText}'`,
      );
    }
    return {
      name,
      ...(resourceName ? { resourceName } : {}),
      ...(resourceType ? { resourceType: resourceType as 'Kubernetes' } : {}),
      location: environment.location,
    };
  }

  private deployment(
    job: YMapping,
    inherited: AgentPool | 'server' | undefined,
    before: readonly Job[],
  ): DeploymentJob | undefined {
    const reader = this.reader;
    reader.keys(
      job,
      [
        'deployment',
        'displayName',
        'dependsOn',
        'condition',
        'continueOnError',
        'timeoutInMinutes',
        'cancelTimeoutInMinutes',
        'variables',
        'pool',
        'workspace',
        'environment',
        'strategy',
        'uses',
        'templateContext',
        'tags',
      ],
      unsupportedJobKeys,
    );
    const base = this.jobBase(job, 'deployment', before);
    const pool = this.pool(valueOf(job, 'pool')) ?? inherited;
    if (pool === 'server') {
      reader.problems.add(
        valueOf(job, 'pool')?.location ?? job.location,
        'A deployment job needs an agent pool: pool: server is for agentless jobs',
      );
    }
    const environment = this.environment(valueOf(job, 'environment'), job);
    const strategy = reader.mapping(valueOf(job, 'strategy'), 'strategy');
    if (!strategy) {
      reader.problems.add(
        job.location,
        `Deployment job ${base.name} needs strategy: runOnce: deploy: steps:`,
      );
      return undefined;
    }
    reader.keys(strategy, ['runOnce'], {
      rolling: 'The rolling deployment strategy is not supported by the runner: use runOnce',
      canary: 'The canary deployment strategy is not supported by the runner: use runOnce',
    });
    const runOnce = reader.mapping(valueOf(strategy, 'runOnce'), 'runOnce');
    if (!runOnce || !environment) return undefined;
    return {
      kind: 'deployment',
      ...base,
      pool: pool === 'server' || pool === undefined ? {} : pool,
      environment,
      hooks: this.hooks(runOnce),
    };
  }

  private hook(node: YNode | undefined, what: string): { steps: Step[]; node?: YNode } | undefined {
    const hook = this.reader.mapping(node, what);
    if (!hook) return undefined;
    this.reader.keys(hook, ['steps'], {
      pool: `A pool for one lifecycle hook (${what}.pool) is not supported by the runner: set the deployment job's pool`,
    });
    const stepsNode = valueOf(hook, 'steps');
    return { steps: readSteps(stepsNode, this.steps), node: stepsNode };
  }

  private hooks(runOnce: YMapping): DeploymentHooks {
    this.reader.keys(runOnce, ['preDeploy', 'deploy', 'routeTraffic', 'postRouteTraffic', 'on']);
    const on = this.reader.mapping(valueOf(runOnce, 'on'), 'on');
    if (on) this.reader.keys(on, ['failure', 'success']);
    const deploy = this.hook(valueOf(runOnce, 'deploy'), 'deploy');
    const optional = (
      key: 'preDeploy' | 'routeTraffic' | 'postRouteTraffic' | 'failure' | 'success',
      name: keyof DeploymentHooks,
    ) => {
      const hook = this.hook(
        key === 'failure' || key === 'success' ? (on ? valueOf(on, key) : undefined) : valueOf(runOnce, key),
        key,
      );
      return hook ? { [name]: hook.steps } : {};
    };
    return {
      ...optional('preDeploy', 'preDeploy'),
      deploy: this.withArtifacts(deploy),
      ...optional('routeTraffic', 'routeTraffic'),
      ...optional('postRouteTraffic', 'postRouteTraffic'),
      ...optional('failure', 'onFailure'),
      ...optional('success', 'onSuccess'),
    };
  }

  // "Download artifact task will be auto injected only in the deploy hook for deployment
  // jobs. To stop downloading artifacts, use - download: none or choose specific artifacts"
  // (docs/pipelines/process/deployment-jobs.md, "Descriptions of lifecycle hooks"): every
  // artifact of this run and of each pipeline resource, unless the hook downloads itself.
  private withArtifacts(hook: { steps: Step[]; node?: YNode } | undefined): Step[] {
    if (hook === undefined) return [];
    if (hook.steps.length === 0 || hasDownloadStep(hook.node)) return hook.steps;
    const location: SourceLocation = hook.node?.location ?? hook.steps[0].location;
    const downloads: TaskStep[] = ['current', ...this.pipelines.map((pipeline) => pipeline.alias)].flatMap(
      (source) => {
        const inputs = downloadInputs(source, undefined, undefined, this.steps, location);
        if (!inputs) return [];
        return [
          {
            kind: 'task' as const,
            task: 'DownloadPipelineArtifact',
            majorVersion: 2,
            inputs,
            inputLocations: Object.fromEntries(Object.keys(inputs).map((input) => [input, location])),
            shorthand: 'download' as const,
            displayName:
              source === 'current' ? 'Download artifacts of this run' : `Download artifacts of ${source}`,
            continueOnError: false,
            enabled: true,
            env: {},
            location,
          },
        ];
      },
    );
    return [...downloads, ...hook.steps];
  }
}

/** The expanded pipeline as the model; problems are recorded in `input.problems`. */
export function normalisePipeline(input: NormaliseInput): CompiledPipeline {
  return new Normaliser(input).pipeline();
}
