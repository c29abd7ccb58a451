/**
 * The tables the emulated workspace holds, with their columns and KQL types, written from
 * Microsoft's Azure Monitor Logs table reference (learn.microsoft.com, CC BY 4.0:
 * https://github.com/MicrosoftDocs/azure-reference-other, licence in its LICENSE file).
 * Each entry names the page it was read from. Columns the reference lists for every table
 * (`_BilledSize`, `_IsBillable`, `_ResourceId`, `_SubscriptionId`, `TenantId`, `Type`,
 * `SourceSystem`, `TimeGenerated`) are added by `standardColumns` where the page lists them.
 */

/** A KQL scalar type, as the query API names it in a result's columns. */
export type KqlType =
  'string' | 'int' | 'long' | 'real' | 'bool' | 'datetime' | 'timespan' | 'dynamic' | 'guid';

/** A column of a table. */
export interface ColumnSchema {
  readonly name: string;
  readonly type: KqlType;
}

/** A table as the reference documents it. */
export interface TableSchema {
  readonly name: string;
  /** The reference page the columns were read from. */
  readonly source: string;
  readonly columns: readonly ColumnSchema[];
}

/** Where the table references come from, and under which licence. */
export const schemaLicence = {
  source: 'https://learn.microsoft.com/azure/azure-monitor/reference/tables/',
  licence: 'CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), Microsoft Corporation',
} as const;

type Columns = Readonly<Record<string, KqlType>>;

const standardColumns: Columns = {
  _BilledSize: 'real',
  _IsBillable: 'string',
  _ResourceId: 'string',
  _SubscriptionId: 'string',
  SourceSystem: 'string',
  TenantId: 'string',
  TimeGenerated: 'datetime',
  Type: 'string',
};

const appTelemetryColumns: Columns = {
  AppRoleInstance: 'string',
  AppRoleName: 'string',
  AppVersion: 'string',
  ClientBrowser: 'string',
  ClientCity: 'string',
  ClientCountryOrRegion: 'string',
  ClientIP: 'string',
  ClientModel: 'string',
  ClientOS: 'string',
  ClientStateOrProvince: 'string',
  ClientType: 'string',
  IKey: 'string',
  ItemCount: 'int',
  Measurements: 'dynamic',
  OperationId: 'string',
  OperationName: 'string',
  ParentId: 'string',
  Properties: 'dynamic',
  ResourceGUID: 'string',
  SDKVersion: 'string',
  SessionId: 'string',
  SyntheticSource: 'string',
  UserAccountId: 'string',
  UserAuthenticatedId: 'string',
  UserId: 'string',
};

function table(name: string, page: string, columns: Columns, extra: Columns = standardColumns): TableSchema {
  return {
    name,
    source: `https://learn.microsoft.com/azure/azure-monitor/reference/tables/${page}`,
    columns: Object.entries({ ...columns, ...extra })
      .map(([column, type]) => ({ name: column, type }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** Every table the emulated workspace knows, by name. */
export const tableSchemas: ReadonlyMap<string, TableSchema> = new Map(
  [
    table('KubePodInventory', 'kubepodinventory', {
      ClusterId: 'string',
      ClusterName: 'string',
      Computer: 'string',
      ContainerCreationTimeStamp: 'datetime',
      ContainerID: 'string',
      ContainerLastStatus: 'string',
      ContainerName: 'string',
      ContainerRestartCount: 'int',
      ContainerStartTime: 'datetime',
      ContainerStatus: 'string',
      ContainerStatusReason: 'string',
      ControllerKind: 'string',
      ControllerName: 'string',
      InstanceName: 'string',
      Name: 'string',
      Namespace: 'string',
      PodCreationTimeStamp: 'datetime',
      PodIp: 'string',
      PodLabel: 'string',
      PodRestartCount: 'int',
      PodStartTime: 'datetime',
      PodStatus: 'string',
      PodUid: 'string',
      ServiceName: 'string',
    }),
    table('KubeEvents', 'kubeevents', {
      ClusterId: 'string',
      ClusterName: 'string',
      Computer: 'string',
      Count: 'real',
      FirstSeen: 'datetime',
      KubeEventType: 'string',
      LastSeen: 'datetime',
      Message: 'string',
      Name: 'string',
      Namespace: 'string',
      ObjectKind: 'string',
      Reason: 'string',
      SourceComponent: 'string',
    }),
    table('ContainerLogV2', 'containerlogv2', {
      Computer: 'string',
      ContainerId: 'string',
      ContainerName: 'string',
      KubernetesMetadata: 'dynamic',
      LogLevel: 'string',
      LogMessage: 'dynamic',
      LogSource: 'string',
      PodName: 'string',
      PodNamespace: 'string',
    }),
    table('Perf', 'perf', {
      BucketEndTime: 'datetime',
      BucketStartTime: 'datetime',
      Computer: 'string',
      CounterName: 'string',
      CounterPath: 'string',
      CounterValue: 'real',
      InstanceName: 'string',
      Max: 'real',
      MG: 'string',
      Min: 'real',
      ManagementGroupName: 'string',
      ObjectName: 'string',
      SampleCount: 'int',
      StandardDeviation: 'real',
    }),
    table('InsightsMetrics', 'insightsmetrics', {
      AgentId: 'string',
      Computer: 'string',
      Name: 'string',
      Namespace: 'string',
      Origin: 'string',
      Tags: 'string',
      Val: 'real',
    }),
    table('AppRequests', 'apprequests', {
      ...appTelemetryColumns,
      DurationMs: 'real',
      Id: 'string',
      Name: 'string',
      PerformanceBucket: 'string',
      ReferencedItemId: 'string',
      ReferencedType: 'string',
      ResultCode: 'string',
      Source: 'string',
      Success: 'bool',
      Url: 'string',
    }),
    table('AppExceptions', 'appexceptions', {
      ...appTelemetryColumns,
      Assembly: 'string',
      Details: 'dynamic',
      ExceptionType: 'string',
      HandledAt: 'string',
      InnermostAssembly: 'string',
      InnermostMessage: 'string',
      InnermostMethod: 'string',
      InnermostType: 'string',
      Message: 'string',
      Method: 'string',
      OuterAssembly: 'string',
      OuterMessage: 'string',
      OuterMethod: 'string',
      OuterType: 'string',
      ProblemId: 'string',
      SeverityLevel: 'int',
    }),
    table('AppDependencies', 'appdependencies', {
      ...appTelemetryColumns,
      Data: 'string',
      DependencyType: 'string',
      DurationMs: 'real',
      Id: 'string',
      Name: 'string',
      PerformanceBucket: 'string',
      ResultCode: 'string',
      Success: 'bool',
      Target: 'string',
    }),
    table('Heartbeat', 'heartbeat', {
      Category: 'string',
      Computer: 'string',
      ComputerEnvironment: 'string',
      ComputerIP: 'string',
      OSMajorVersion: 'string',
      OSMinorVersion: 'string',
      OSName: 'string',
      OSType: 'string',
      Version: 'string',
    }),
  ].map((schema) => [schema.name, schema]),
);
