/**
 * The health metrics the gate knows by name, each with the KQL it runs against the Log
 * Analytics workspace that Container Insights and workspace-based Application Insights
 * write to. Pure: a scope in, query text out. Every query answers one row whose columns are
 * the metric and `samples`, the number of rows it was computed from; no samples means no
 * data yet (ingestion lags minutes behind), which the gate never counts as a pass.
 *
 * Each Container Insights query finds the release's pods itself, in KubePodInventory by their
 * hash labels, so that every metric is one round trip to the service: the inventory's own
 * metrics filter it by those labels, the others name the pods in a `let releasePods`
 * (https://learn.microsoft.com/kusto/query/let-statement) they match with `in`.
 *
 * Tables and columns as Microsoft documents them:
 * https://learn.microsoft.com/azure/azure-monitor/reference/tables/kubepodinventory
 * https://learn.microsoft.com/azure/azure-monitor/reference/tables/kubeevents
 * https://learn.microsoft.com/azure/azure-monitor/reference/tables/containerlogv2
 * https://learn.microsoft.com/azure/azure-monitor/reference/tables/perf
 * https://learn.microsoft.com/azure/azure-monitor/reference/tables/apprequests
 * https://learn.microsoft.com/azure/azure-monitor/reference/tables/appexceptions
 */

/** Where the release runs, and which of its pods are new. */
export interface ClusterScope {
  /** The AKS cluster's name, as Container Insights writes it in ClusterName. */
  readonly cluster: string;
  readonly namespace: string;
  /**
   * The `pod-template-hash` (Deployments) or `controller-revision-hash` (StatefulSets,
   * DaemonSets) values AksDeploy wrote in its podTemplateHash output. Absent: every pod of
   * the namespace, as a baseline reads the previous release, whatever its hash.
   */
  readonly podTemplateHashes?: readonly string[];
}

/** Which telemetry of the application counts, when the app sets its cloud role and version. */
export interface AppScope {
  readonly roleName?: string;
  readonly version?: string;
}

/** Everything a metric's query may be scoped to. */
export interface MetricScope {
  readonly cluster?: ClusterScope;
  readonly app: AppScope;
  /** RE2 pattern a container log line must match to count as an error (errorLogLines). */
  readonly errorLogPattern: string;
}

/** A metric the gate can judge by name in healthThresholds. */
export interface HealthMetric {
  readonly name: string;
  readonly source: 'Container Insights' | 'Application Insights';
  /** What it measures, for the summary and the README. */
  readonly description: string;
  /**
   * True for a count of things only written when they happen that has nothing else to be
   * counted over (exceptions): no rows, and samples 0, is zero, not a lack of data. The
   * Container Insights counts of that kind (warningEvents, errorLogLines) are not: their
   * queries answer 0 for no rows themselves, and count as samples the release's pods in
   * KubePodInventory, so that a release whose pods are not seen yet has no data, never a 0
   * that would pass.
   */
  readonly absentMeansZero: boolean;
  readonly query: (scope: MetricScope) => string;
}

/** The default pattern for errorLogLines: a level word as most loggers write it. */
export const defaultErrorLogPattern = '(?i)\\b(error|fatal|panic|exception)\\b';

/** A KQL string literal: single-quoted, with backslash and quote escaped. */
export function kqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function kqlList(values: readonly string[]): string {
  return `(${values.map(kqlString).join(', ')})`;
}

/**
 * The release's rows of KubePodInventory: the namespace's pods whose labels carry one of the
 * release's hashes (all of the namespace's without hashes). A pod keeps its labels, so its
 * rows all pass or all fail; a StatefulSet pod recreated under its old name is told apart by
 * its new controller-revision-hash.
 */
function podInventory(scope: ClusterScope): string[] {
  return [
    'KubePodInventory',
    `| where ClusterName =~ ${kqlString(scope.cluster)} and Namespace == ${kqlString(scope.namespace)}`,
    ...(scope.podTemplateHashes ? [`| where PodLabel has_any ${kqlList(scope.podTemplateHashes)}`] : []),
  ];
}

/** `let releasePods = …;`: the release's pods, by Name and PodUid, for a query over another table. */
function releasePods(scope: ClusterScope): string {
  return [...podInventory(scope), '| distinct Name, PodUid;'].join('\n');
}

// Container Insights names a container in Perf's InstanceName `<ClusterId>/<PodUid>/<container>`,
// KubePodInventory's ClusterId and PodUid: its second part from the end is the pod's uid.
function containerPerf(scope: ClusterScope, usage: string, limit: string, metric: string): string {
  return [
    `let releasePods = ${releasePods(scope)}`,
    'Perf',
    `| where ObjectName == 'K8SContainer' and CounterName in (${kqlString(usage)}, ${kqlString(limit)})`,
    "| extend PodUid = tostring(split(InstanceName, '/')[-2])",
    '| where PodUid in ((releasePods | project PodUid))',
    `| summarize used = avgif(CounterValue, CounterName == ${kqlString(usage)}), limit = maxif(CounterValue, CounterName == ${kqlString(limit)}), samples = countif(CounterName == ${kqlString(usage)}) by InstanceName`,
    `| summarize ${metric} = round(max(100.0 * used / limit), 1), samples = sum(samples)`,
  ].join('\n');
}

function appTable(table: 'AppRequests' | 'AppExceptions', scope: AppScope): string {
  const filters = [
    ...(scope.roleName ? [`AppRoleName == ${kqlString(scope.roleName)}`] : []),
    ...(scope.version ? [`AppVersion == ${kqlString(scope.version)}`] : []),
  ];
  return [table, ...(filters.length > 0 ? [`| where ${filters.join(' and ')}`] : [])].join('\n');
}

function requireCluster(scope: MetricScope): ClusterScope {
  if (!scope.cluster) throw new Error('a Container Insights metric needs the cluster scope');
  return scope.cluster;
}

/** The metrics, by name. */
export const healthMetrics: readonly HealthMetric[] = [
  {
    name: 'restarts',
    source: 'Container Insights',
    description: "Container restarts in the release's pods",
    absentMeansZero: false,
    query: (scope) =>
      [
        ...podInventory(requireCluster(scope)),
        '| summarize restarts = max(ContainerRestartCount), samples = count() by Name, ContainerName',
        '| summarize restarts = sum(restarts), samples = sum(samples)',
      ].join('\n'),
  },
  {
    name: 'oomKilled',
    source: 'Container Insights',
    description: 'Containers whose last run ended OOMKilled (out of memory)',
    absentMeansZero: false,
    query: (scope) =>
      [
        ...podInventory(requireCluster(scope)),
        "| extend container = strcat(Name, '/', ContainerName)",
        "| summarize oomKilled = dcountif(container, ContainerLastStatus has 'OOMKilled'), samples = count()",
      ].join('\n'),
  },
  {
    name: 'terminations',
    source: 'Container Insights',
    description: 'Containers whose last run terminated, for any reason (OOMKilled, Error, …)',
    absentMeansZero: false,
    query: (scope) =>
      [
        ...podInventory(requireCluster(scope)),
        "| extend container = strcat(Name, '/', ContainerName)",
        "| summarize terminations = dcountif(container, ContainerLastStatus has 'terminated'), samples = count()",
      ].join('\n'),
  },
  {
    name: 'podsNotReady',
    source: 'Container Insights',
    description: "The release's pods whose latest record is not Running with every container running",
    absentMeansZero: false,
    query: (scope) =>
      [
        ...podInventory(requireCluster(scope)),
        '| summarize arg_max(TimeGenerated, PodStatus, ContainerStatus) by Name, ContainerName',
        "| summarize podsNotReady = dcountif(Name, PodStatus != 'Running' or ContainerStatus != 'running'), samples = count()",
      ].join('\n'),
  },
  {
    name: 'warningEvents',
    source: 'Container Insights',
    description: "Warning events about the release's pods",
    absentMeansZero: false,
    query: (scope) => {
      const cluster = requireCluster(scope);
      return [
        `let releasePods = ${releasePods(cluster)}`,
        'KubeEvents',
        `| where ClusterName =~ ${kqlString(cluster.cluster)} and Namespace == ${kqlString(cluster.namespace)}`,
        "| where Name in ((releasePods | project Name)) and KubeEventType == 'Warning'",
        // Container Insights writes an event again each time its count grows, with the
        // cumulative Count: each event counts once, at its latest count.
        '| summarize Count = max(Count) by Name, Reason, Message, FirstSeen',
        '| summarize warningEvents = sum(Count)',
        '| extend samples = toscalar(releasePods | count)',
      ].join('\n');
    },
  },
  {
    name: 'errorLogLines',
    source: 'Container Insights',
    description: "Log lines of the release's containers that match errorLogPattern",
    absentMeansZero: false,
    query: (scope) => {
      const cluster = requireCluster(scope);
      return [
        `let releasePods = ${releasePods(cluster)}`,
        'ContainerLogV2',
        `| where PodNamespace == ${kqlString(cluster.namespace)} and PodName in ((releasePods | project Name))`,
        `| summarize errorLogLines = countif(tostring(LogMessage) matches regex ${kqlString(scope.errorLogPattern)})`,
        '| extend samples = toscalar(releasePods | count)',
      ].join('\n');
    },
  },
  {
    name: 'cpuPercentOfLimit',
    source: 'Container Insights',
    description: "The busiest container's average CPU use, as a percentage of its limit",
    absentMeansZero: false,
    query: (scope) =>
      containerPerf(requireCluster(scope), 'cpuUsageNanoCores', 'cpuLimitNanoCores', 'cpuPercentOfLimit'),
  },
  {
    name: 'memoryPercentOfLimit',
    source: 'Container Insights',
    description: "The fullest container's average working set, as a percentage of its memory limit",
    absentMeansZero: false,
    query: (scope) =>
      containerPerf(
        requireCluster(scope),
        'memoryWorkingSetBytes',
        'memoryLimitBytes',
        'memoryPercentOfLimit',
      ),
  },
  {
    name: 'requests',
    source: 'Application Insights',
    description: 'Requests the app served',
    absentMeansZero: false,
    query: (scope) =>
      [appTable('AppRequests', scope.app), '| summarize requests = count(), samples = count()'].join('\n'),
  },
  {
    name: 'failedRatePercent',
    source: 'Application Insights',
    description: 'Failed requests, as a percentage of all requests',
    absentMeansZero: false,
    query: (scope) =>
      [
        appTable('AppRequests', scope.app),
        '| summarize failedRatePercent = round(100.0 * countif(Success == false) / count(), 2), samples = count()',
      ].join('\n'),
  },
  {
    name: 'p95DurationMs',
    source: 'Application Insights',
    description: "The 95th percentile of the requests' duration, in milliseconds",
    absentMeansZero: false,
    query: (scope) =>
      [
        appTable('AppRequests', scope.app),
        '| summarize p95DurationMs = round(percentile(DurationMs, 95), 1), samples = count()',
      ].join('\n'),
  },
  {
    name: 'exceptions',
    source: 'Application Insights',
    description: 'Exceptions the app reported',
    absentMeansZero: true,
    query: (scope) =>
      [appTable('AppExceptions', scope.app), '| summarize exceptions = count(), samples = count()'].join(
        '\n',
      ),
  },
];

/** The metric of that name, if the gate knows it. */
export function healthMetric(name: string): HealthMetric | undefined {
  return healthMetrics.find((metric) => metric.name === name);
}
