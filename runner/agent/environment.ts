import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentMasksParameter } from '../../tasks/shared/known-secrets';

/**
 * The environment the agent hands a Node task (Handler.AddVariablesToEnvironment,
 * AddInputsToEnvironment and AddEndpointsToEnvironment in microsoft/azure-pipelines-agent,
 * src/Agent.Worker/Handlers/Handler.cs), built from scratch so that nothing of the test
 * process leaks in. task-lib reads it back in internal.js `_loadData`.
 */

/** A service connection as the agent holds it. */
export interface Endpoint {
  readonly url: string;
  readonly scheme: string;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly data?: Readonly<Record<string, string>>;
}

/** The folders of one run, all under `root` and removed when the test process exits. */
export interface RunDirectories {
  readonly root: string;
  readonly home: string;
  /** Agent.WorkFolder */
  readonly work: string;
  /** Agent.TempDirectory */
  readonly temp: string;
  /** Agent.BuildDirectory */
  readonly build: string;
  /** Build.SourcesDirectory and System.DefaultWorkingDirectory: the task's working directory. */
  readonly sources: string;
  /** Build.ArtifactStagingDirectory */
  readonly staging: string;
  /** Agent.ToolsDirectory */
  readonly tools: string;
}

/** What goes into a task's environment. */
export interface EnvironmentSpec {
  readonly dirs: RunDirectories;
  readonly inputs: Readonly<Record<string, string>>;
  readonly endpoints: Readonly<Record<string, Endpoint>>;
  /** Public job variables by name, defaults already merged in. */
  readonly variables: Readonly<Record<string, string>>;
  readonly secretVariables: Readonly<Record<string, string>>;
  /** Added last and wins: NODE_EXTRA_CA_CERTS, NODE_OPTIONS and the like. */
  readonly extra: Readonly<Record<string, string>>;
}

/** The name of the connection the agent always passes: the job's own access to Azure DevOps. */
export const systemConnectionId = 'SYSTEMVSSCONNECTION';

let runsRoot: string | undefined;

/** Creates a fresh set of agent folders for one run. */
export function createRunDirectories(): RunDirectories {
  if (!runsRoot) {
    const root = mkdtempSync(join(tmpdir(), 'agent-runs-'));
    runsRoot = root;
    process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  }
  const root = mkdtempSync(join(runsRoot, 'run-'));
  const work = join(root, '_work');
  const build = join(work, '1');
  const dirs: RunDirectories = {
    root,
    home: join(root, 'home'),
    work,
    temp: join(work, '_temp'),
    build,
    sources: join(build, 's'),
    staging: join(build, 'a'),
    tools: join(work, '_tool'),
  };
  for (const dir of [dirs.home, dirs.temp, dirs.sources, dirs.staging, dirs.tools, join(build, 'b')]) {
    mkdirSync(dir, { recursive: true });
  }
  return dirs;
}

/** The agent's variable-name-to-environment rule (VarUtil.ConvertToEnvVariableFormat), which task-lib mirrors. */
export function environmentName(name: string): string {
  return name.replace(/[. ]/g, '_').toUpperCase();
}

/** A token shaped like an Azure DevOps job access token, fresh per run. */
export function newAccessToken(): string {
  return randomBytes(39).toString('base64url');
}

/** Default job variables for a build job, with the run's folders filled in. */
export function defaultVariables(dirs: RunDirectories, collectionUri: string): Record<string, string> {
  return {
    'System.CollectionUri': collectionUri,
    'System.TeamFoundationCollectionUri': collectionUri,
    'System.TeamFoundationServerUri': collectionUri,
    'System.TeamProject': 'aks-release-flow',
    'System.TeamProjectId': '6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c',
    'System.HostType': 'build',
    'System.ServerType': 'Hosted',
    'System.PlanId': randomUUID(),
    'System.JobId': randomUUID(),
    'System.TimelineId': randomUUID(),
    'System.JobName': 'Job',
    'System.JobDisplayName': 'Job',
    'System.StageName': 'Build',
    'System.PhaseName': 'Job',
    'System.DefinitionName': 'aks-release-flow-ci',
    'System.DefinitionId': '42',
    'System.JobAttempt': '1',
    'System.Culture': 'en-US',
    'System.Debug': 'false',
    'System.DefaultWorkingDirectory': dirs.sources,
    'System.ArtifactsDirectory': dirs.staging,
    'Build.BuildId': '1234',
    'Build.BuildNumber': '20250101.1',
    'Build.BuildUri': 'vstfs:///Build/Build/1234',
    'Build.DefinitionName': 'aks-release-flow-ci',
    'Build.Reason': 'Manual',
    'Build.Repository.Name': 'aks-release-flow',
    'Build.SourceBranch': 'refs/heads/main',
    'Build.SourceVersion': '0000000000000000000000000000000000000000',
    'Build.SourcesDirectory': dirs.sources,
    'Build.ArtifactStagingDirectory': dirs.staging,
    'Build.BinariesDirectory': join(dirs.build, 'b'),
    'Agent.Version': '4.266.2',
    'Agent.Name': 'Hosted Agent',
    'Agent.MachineName': 'harness',
    'Agent.OS': 'Linux',
    'Agent.OSArchitecture': 'X64',
    'Agent.JobName': 'Job',
    'Agent.JobStatus': 'Succeeded',
    'Agent.TempDirectory': dirs.temp,
    'Agent.WorkFolder': dirs.work,
    'Agent.BuildDirectory': dirs.build,
    'Agent.ToolsDirectory': dirs.tools,
    'Agent.HomeDirectory': dirs.root,
  };
}

/** Builds the task's environment exactly as the agent lays it out. */
export function buildEnvironment(spec: EnvironmentSpec): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: spec.dirs.home,
    TF_BUILD: 'True',
  };
  const publicNames: string[] = [];
  for (const [name, value] of Object.entries(spec.variables)) {
    // The agent adds Agent.JobStatus under its own name as well (Handler.cs).
    if (name.toLowerCase() === 'agent.jobstatus') env[name] = value;
    env[environmentName(name)] = value;
    publicNames.push(name);
  }
  env.VSTS_PUBLIC_VARIABLES = JSON.stringify(publicNames);
  const secretNames: string[] = [];
  for (const [name, value] of Object.entries(spec.secretVariables)) {
    env[`SECRET_${environmentName(name)}`] = value;
    secretNames.push(name);
  }
  env.VSTS_SECRET_VARIABLES = JSON.stringify(secretNames);

  for (const [name, value] of Object.entries(spec.inputs)) env[`INPUT_${environmentName(name)}`] = value;

  for (const [id, endpoint] of Object.entries(spec.endpoints)) {
    const parameters = endpoint.parameters ?? {};
    env[`ENDPOINT_URL_${id}`] = endpoint.url;
    env[`ENDPOINT_AUTH_${id}`] = JSON.stringify({ parameters, scheme: endpoint.scheme });
    env[`ENDPOINT_AUTH_SCHEME_${id}`] = endpoint.scheme;
    for (const [key, value] of Object.entries(parameters)) {
      env[`ENDPOINT_AUTH_PARAMETER_${id}_${environmentName(key)}`] = value;
    }
    // The agent sends data only for connections with a real id, not the system connection.
    if (id !== systemConnectionId) {
      const data = endpoint.data ?? {};
      env[`ENDPOINT_DATA_${id}`] = JSON.stringify(data);
      for (const [key, value] of Object.entries(data))
        env[`ENDPOINT_DATA_${id}_${environmentName(key)}`] = value;
    }
  }
  return { ...env, ...spec.extra };
}

// The agent leaves some authorization parameters unmasked (MaskingUtil in the agent); the
// tasks keep that list, since they mask the same way.
export { agentMasksParameter };

/**
 * Whether a parameter holds a credential, for the leak check. Narrower than what the agent
 * masks: ids such as serviceprincipalid or a user name may show up in files and messages.
 */
export function isCredentialParameter(key: string): boolean {
  return /key|secret|password|token|certificate|credential|pat$/i.test(key) && agentMasksParameter(key);
}
