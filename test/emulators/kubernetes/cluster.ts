import type { EmulatedRequest, Handler } from '../types';
import { AutoscalerController } from './controllers/autoscaler';
import { ImageBehaviours, type ImageBehaviour } from './controllers/behaviours';
import { listKind, type ControllerContext } from './controllers/context';
import { reconcileDaemonSets } from './controllers/daemonset';
import { DeploymentController } from './controllers/deployment';
import { EndpointsController } from './controllers/endpoints';
import { collectGarbage } from './controllers/garbage-collector';
import { reconcileJobs } from './controllers/job';
import { Kubelet, type ImageExists, type LogOptions } from './controllers/kubelet';
import { NamespaceController } from './controllers/namespace';
import { reconcileReplicaSets } from './controllers/replicaset';
import { schedulePods } from './controllers/scheduler';
import { reconcileStatefulSets } from './controllers/statefulset';
import { TypeRegistry } from './discovery';
import { clone, type KubeObject } from './object';
import { ObjectService } from './objects';
import { answerKubernetes, type AccessRequest } from './rest';
import type { Rules } from './reviews';
import { ObjectStore, type WatchEvent } from './store';

/** A node of the cluster's one agent pool. */
export interface NodeSpec {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Allocatable CPU, e.g. "3860m". */
  readonly cpu?: string;
  /** Allocatable memory, e.g. "12Gi". */
  readonly memory?: string;
}

/** How a cluster is set up. */
export interface ClusterOptions {
  /** The cluster name; its API server answers at `<name>.hcp.azure.test`. */
  readonly name: string;
  /** Bearer tokens accepted as they are (local accounts, service accounts); their user is `token-user`. */
  readonly tokens?: readonly string[];
  /**
   * Accepts other bearer tokens, e.g. Entra access tokens for the AKS server app:
   * the user's name (an Entra object id), true for an unnamed user, or false.
   */
  readonly verifyToken?: (token: string) => boolean | string;
  /** Multiplies the controllers' own durations (back-offs, progress deadlines); 0.01 makes 600 s 6 s. */
  readonly timeScale?: number;
  /** Whether an image can be pulled (true or its digest); every image can when omitted. */
  readonly imageExists?: ImageExists;
  /** The nodes; three `aks-nodepool1-…-vmss00000N` nodes when omitted. */
  readonly nodes?: readonly NodeSpec[];
}

/** The host name of a cluster's API server. */
export function apiServerHost(clusterName: string): string {
  return `${clusterName}.hcp.azure.test`;
}

/**
 * One emulated AKS cluster: an API server (transport-free handler for the shared front)
 * over an object store, with the controllers, scheduler and kubelet simulated on timers.
 */
export class EmulatedCluster {
  readonly name: string;
  readonly host: string;
  readonly store = new ObjectStore();
  readonly types = new TypeRegistry();
  readonly objects: ObjectService;
  /** Per-image container behaviour; set by tests. */
  readonly behaviours = new ImageBehaviours();
  /** The handler to register on the shared front for `host`. */
  readonly handler: Handler;
  /**
   * The same API under `https://127.0.0.1:<port>/k8s/clusters/<name>`, registered on the
   * front's `127.0.0.1` host: kubectl (a Go binary, outside our DNS hook) reaches the
   * clusters there, told by the kubeconfig's `tls-server-name` which name to verify.
   */
  readonly loopbackHandler: Handler;
  /** The path prefix `loopbackHandler` answers under. */
  readonly loopbackPath: string;
  /** Multiplies the controllers' own durations; tests may change it at any time. */
  get timeScale(): number {
    return this.scale;
  }
  set timeScale(value: number) {
    this.scale = value;
    this.scheduleEverything();
  }
  /** Errors the controllers threw (a bug in the emulator); empty in a healthy run. */
  readonly controllerErrors: Error[] = [];

  private readonly tokens: Map<string, string>;
  private readonly verifyToken?: (token: string) => boolean | string;
  private readonly kubelet: Kubelet;
  private readonly deployments: DeploymentController;
  private readonly namespaces: NamespaceController;
  private readonly autoscalers: AutoscalerController;
  private readonly endpoints: EndpointsController;
  /** Pending wake-ups by the time they are due, with the objects they are for. */
  private readonly timers = new Map<number, { timer: NodeJS.Timeout; objects: KubeObject[] }>();
  private scale: number;
  /*
   * What the next pass looks at, as the real controllers' work queues hold it: the objects
   * that changed and the owners of what changed (`pending`, filled by every store change;
   * `current`, what was pending when this iteration began; objects whose timer came due or
   * whose image was pulled), or every object (`sweep`) when something that concerns them
   * all changed: a node, an image's behaviour, the time scale.
   */
  private everything = true;
  private sweep = true;
  private current = new Set<string>();
  private pending = new Set<string>();
  private scheduled = false;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(options: ClusterOptions) {
    this.name = options.name;
    this.host = apiServerHost(options.name);
    this.scale = options.timeScale ?? 1;
    this.tokens = new Map((options.tokens ?? []).map((token) => [token, 'token-user']));
    this.verifyToken = options.verifyToken;
    this.objects = new ObjectService(this.store, this.types);
    const scale = (): number => this.timeScale;
    const context: ControllerContext = {
      objects: this.objects,
      get timeScale() {
        return scale();
      },
      type: (group, kind) => {
        const type = this.types.byKind(group, kind);
        if (!type) throw new Error(`no type ${group}/${kind}`);
        return type;
      },
      now: () => Date.now(),
      wakeAt: (time, object) => this.wakeAt(time, object),
      wake: (object) => {
        this.mark(object);
        this.schedule();
      },
      dueUids: () => (this.sweep ? undefined : new Set([...this.current, ...this.pending])),
      readySince: (pod) => this.kubelet.readySince(pod.metadata.uid),
    };
    this.kubelet = new Kubelet(context, this.behaviours, options.imageExists ?? (async () => true));
    this.deployments = new DeploymentController(context);
    this.namespaces = new NamespaceController(context);
    this.autoscalers = new AutoscalerController(context);
    this.endpoints = new EndpointsController(context);
    this.controllerContext = context;
    this.bootstrap(options.nodes ?? defaultNodes(options.name));
    this.store.onChange((event) => this.changed(event));
    this.handler = (request) => this.answer(request);
    this.loopbackPath = `/k8s/clusters/${options.name}`;
    this.loopbackHandler = (request) => {
      const path = request.url.pathname;
      if (path !== this.loopbackPath && !path.startsWith(`${this.loopbackPath}/`)) return undefined;
      const url = new URL(request.url);
      url.pathname = path.slice(this.loopbackPath.length) || '/';
      return this.answer({ ...request, url });
    };
  }

  private readonly controllerContext: ControllerContext;

  /**
   * Decides what an authenticated user may do (AKS's Azure RBAC, or Kubernetes RBAC);
   * everything is allowed unless a test sets it. Refusals answer 403 Forbidden, and
   * SelfSubjectAccessReviews (`kubectl auth can-i`) answer from it too.
   */
  authorize: (access: AccessRequest) => boolean = allowEverything;

  /** Accepts another static bearer token, for a named user. */
  addToken(token: string, user = 'token-user'): void {
    this.tokens.set(token, user);
  }

  /** Sets how containers of an image (exact reference, or a repository for all its tags) behave. */
  setImageBehaviour(imageOrRepository: string, behaviour: ImageBehaviour): void {
    this.behaviours.set(imageOrRepository, behaviour);
    this.scheduleEverything();
  }

  /** An object by kind (`Deployment`, or `group/Kind` for ambiguous kinds), or undefined. */
  getObject(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const [group, bare] = kind.includes('/') ? kind.split('/') : [groupOfKind(kind), kind];
    const type = this.types.byKind(group!, bare!);
    const found = type ? this.objects.find(type, namespace, name) : undefined;
    return found && clone(found);
  }

  /** Every object of a kind, in a namespace or all. */
  listObjects(kind: string, namespace?: string): KubeObject[] {
    const [group, bare] = kind.includes('/') ? kind.split('/') : [groupOfKind(kind), kind];
    return listKind(this.controllerContext, group!, bare!, namespace).map((object) => clone(object));
  }

  /** What `kubectl logs` shows for a container of a pod; throws the kubelet's 400 while it is waiting. */
  readLogs(pod: KubeObject, options: LogOptions): string {
    return this.kubelet.readLogs(pod, options);
  }

  /** Stops the controllers' timers (the store stays readable). */
  stop(): void {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async answer(request: EmulatedRequest) {
    return answerKubernetes(
      {
        objects: this.objects,
        authenticate: (incoming) => this.authenticate(incoming),
        authorization: {
          allows: (access) => this.authorize(access),
          // Left as it is, every user is a cluster admin, whose rules are known; a test's
          // authorizer stands for AKS's Azure RBAC webhook, which cannot list them.
          rules: () => (this.authorize === allowEverything ? clusterAdminRules : undefined),
        },
        userOfToken: (token) => this.userOfToken(token),
        readLogs: (pod, options) => this.kubelet.readLogs(pod, options),
      },
      request,
    );
  }

  private authenticate(request: EmulatedRequest): string | undefined {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    return token ? this.userOfToken(token) : undefined;
  }

  private userOfToken(token: string): string | undefined {
    const known = this.tokens.get(token);
    if (known) return known;
    const verified = this.verifyToken?.(token);
    return typeof verified === 'string' ? verified : verified ? 'token-user' : undefined;
  }

  private bootstrap(nodes: readonly NodeSpec[]): void {
    const create = (group: string, kind: string, object: KubeObject, namespace?: string) => {
      const type = this.types.byKind(group, kind)!;
      return this.objects.create(type, this.objects.prepareCreate(type, object, namespace));
    };
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      create('', 'Namespace', { metadata: { name } });
    }
    for (const [index, node] of nodes.entries()) {
      // A node's status is a subresource, dropped on create as a real API server drops it;
      // the kubelet posts it once it has registered the node.
      const registration = {
        metadata: {
          name: node.name,
          labels: {
            'kubernetes.io/hostname': node.name,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'node.kubernetes.io/instance-type': 'Standard_D4ds_v5',
            agentpool: 'nodepool1',
            'kubernetes.azure.com/agentpool': 'nodepool1',
            'topology.kubernetes.io/region': 'westeurope',
            ...node.labels,
          },
        },
        spec: {},
        status: {
          capacity: { cpu: '4', memory: '16374504Ki', pods: '110' },
          allocatable: { cpu: node.cpu ?? '3860m', memory: node.memory ?? '12Gi', pods: '110' },
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'kubelet is posting ready status',
            },
          ],
          addresses: [
            { type: 'InternalIP', address: `10.224.0.${4 + index}` },
            { type: 'Hostname', address: node.name },
          ],
          nodeInfo: {
            kernelVersion: '5.15.0-1074-azure',
            kubeletVersion: 'v1.31.3',
            osImage: 'Ubuntu 22.04.5 LTS',
            containerRuntimeVersion: 'containerd://1.7.23-1',
            architecture: 'amd64',
            operatingSystem: 'linux',
          },
        },
      };
      const registered = create('', 'Node', registration);
      const nodeType = this.types.byKind('', 'Node')!;
      this.objects.update(
        nodeType,
        this.objects.prepareUpdate(
          nodeType,
          registered,
          { ...registered, status: registration.status },
          'status',
        ),
      );
    }
  }

  // One timer per distinct time: the controllers ask again on every pass for the same
  // moment (a pod's readiness, a deadline), and each timer would cause a pass of its own.
  // When it fires, the objects it was asked for are due.
  private wakeAt(time: number, object: KubeObject): void {
    if (this.stopped) return;
    let due = this.timers.get(time);
    if (!due) {
      const objects: KubeObject[] = [];
      const timer = setTimeout(
        () => {
          this.timers.delete(time);
          for (const each of objects) this.mark(each);
          this.schedule();
        },
        Math.max(0, time - Date.now()) + 1,
      );
      timer.unref();
      this.timers.set(time, (due = { timer, objects }));
    }
    if (!due.objects.some((each) => each.metadata.uid === object.metadata.uid)) due.objects.push(object);
  }

  // A change marks the object and its owners for the next pass; a node change concerns every pod.
  private changed(event: WatchEvent): void {
    if (event.key === '/nodes') this.everything = true;
    this.mark(event.object);
    if (event.previous) this.mark(event.previous);
    this.schedule();
  }

  private mark(object: KubeObject): void {
    this.pending.add(object.metadata.uid);
    for (const reference of (object.metadata.ownerReferences ?? []) as KubeObject[])
      this.pending.add(String(reference.uid));
  }

  private scheduleEverything(): void {
    this.everything = true;
    this.schedule();
  }

  // Controllers run together, soon after any change; changes they make cause one more pass.
  private schedule(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.reconcile();
    });
  }

  private reconcile(): void {
    if (this.stopped) return;
    this.running = true;
    try {
      this.runControllers();
    } catch (error) {
      // A controller bug must not crash the test process from a timer; it is kept for
      // assertions and shown once.
      if (this.controllerErrors.length === 0) console.error('emulated cluster controller failed:', error);
      this.controllerErrors.push(error as Error);
      // What this pass was to look at may be half done: the next one looks at everything.
      this.everything = true;
    } finally {
      this.running = false;
    }
    if (this.again) this.schedule();
  }

  private runControllers(): void {
    let passes = 0;
    do {
      this.again = false;
      this.sweep = this.everything;
      this.everything = false;
      this.current = this.pending;
      this.pending = new Set();
      collectGarbage(this.controllerContext);
      this.namespaces.reconcile();
      this.ensureServiceAccounts();
      this.autoscalers.reconcile();
      this.deployments.reconcile();
      reconcileReplicaSets(this.controllerContext);
      reconcileStatefulSets(this.controllerContext);
      reconcileDaemonSets(this.controllerContext);
      reconcileJobs(this.controllerContext);
      schedulePods(this.controllerContext);
      this.kubelet.reconcile();
      this.endpoints.reconcile();
    } while (this.again && ++passes < 20);
  }

  // The service account controller: every namespace has a `default` service account.
  private ensureServiceAccounts(): void {
    const accounts = this.types.byKind('', 'ServiceAccount')!;
    for (const namespace of listKind(this.controllerContext, '', 'Namespace')) {
      if (namespace.metadata.deletionTimestamp) continue;
      const name = namespace.metadata.name;
      if (!this.objects.find(accounts, name, 'default')) {
        this.objects.create(
          accounts,
          this.objects.prepareCreate(accounts, { metadata: { name: 'default' } }, name),
        );
      }
    }
  }
}

function allowEverything(): boolean {
  return true;
}

// The cluster-admin ClusterRole's rules, as a SelfSubjectRulesReview lists them.
const clusterAdminRules: Rules = {
  resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
  nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
};

function groupOfKind(kind: string): string {
  if (['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'ControllerRevision'].includes(kind))
    return 'apps';
  if (['Job', 'CronJob'].includes(kind)) return 'batch';
  if (kind === 'CustomResourceDefinition') return 'apiextensions.k8s.io';
  if (kind === 'HorizontalPodAutoscaler') return 'autoscaling';
  if (kind === 'EndpointSlice') return 'discovery.k8s.io';
  return '';
}

function defaultNodes(cluster: string): NodeSpec[] {
  const id = [...cluster].reduce((sum, char) => (sum * 31 + char.charCodeAt(0)) % 100_000_000, 7);
  return [0, 1, 2].map((index) => ({
    name: `aks-nodepool1-${String(id).padStart(8, '0')}-vmss00000${index}`,
  }));
}
