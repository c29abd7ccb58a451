import { deepEqual, type KubeObject } from '../object';
import {
  createOwned,
  isPodReady,
  isPodTerminal,
  isPodTerminating,
  remove,
  writeObject,
  type ControllerContext,
} from './context';

/** The label that names an EndpointSlice's Service. */
export const serviceNameLabel = 'kubernetes.io/service-name';
/** The label that names the controller managing an EndpointSlice. */
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
/** The EndpointSlice controller's name in that label. */
export const endpointSliceController = 'endpointslice-controller.k8s.io';

// The controller's --max-endpoints-per-slice default.
const maxEndpointsPerSlice = 100;
const headlessLabel = 'service.kubernetes.io/headless';

/**
 * The EndpointSlice controller and the (legacy) Endpoints controller: for each Service
 * with a selector, the addresses of the pods it selects, ready or not, with the ports its
 * target ports resolve to in each pod. Slices are owned by their Service and labelled
 * with its name; the Endpoints object bears the Service's name and goes with it.
 * k8s.io/kubernetes pkg/controller/endpointslice (staging endpointslice/reconciler.go),
 * pkg/controller/endpoint/endpoints_controller.go
 *
 * A pass looks only at the Services a change concerns: those that changed, those in the
 * namespace of a pod that changed, and those that listed a pod that is gone, so that a
 * deploy pays for its own Services and no one else's.
 */
export class EndpointsController {
  // The Services synced so far, by uid: where they are and the pods they listed.
  private readonly synced = new Map<string, { namespace: string; name: string; pods: ReadonlySet<string> }>();

  constructor(private readonly context: ControllerContext) {}

  /** One pass over the Services that changes concern. */
  reconcile(): void {
    const { objects } = this.context;
    const services = this.context.type('', 'Service');
    const due = this.context.dueUids();
    const concerned = new Map<string, KubeObject>();
    const add = (service: KubeObject) => concerned.set(service.metadata.uid, service);
    // Each namespace's Services and pods are read once a pass, however many changed.
    const servicesIn = memo((namespace: string) => objects.list(services, namespace).filter(hasSelector));
    const podsIn = memo((namespace: string) => objects.list(this.context.type('', 'Pod'), namespace));
    if (!due) objects.list(services).forEach(add);
    else {
      objects.withUids(services, due).forEach(add);
      for (const pod of objects.withUids(this.context.type('', 'Pod'), due)) {
        for (const service of servicesIn(pod.metadata.namespace)) if (selects(service, pod)) add(service);
      }
      // An Endpoints object someone else changed is put back as its Service has it.
      for (const endpoints of objects.withUids(this.context.type('', 'Endpoints'), due)) {
        const service = objects.find(services, endpoints.metadata.namespace, endpoints.metadata.name);
        if (service) add(service);
      }
    }
    for (const [uid, known] of this.synced) {
      if (concerned.has(uid)) continue;
      const listedGone = due && [...known.pods].some((pod) => due.has(pod));
      const service = objects.find(services, known.namespace, known.name);
      if (service?.metadata.uid !== uid) this.forget(uid);
      else if (!due || listedGone || due.has(uid)) add(service);
    }
    for (const service of concerned.values()) this.sync(service, podsIn(service.metadata.namespace));
  }

  private sync(service: KubeObject, namespacePods: readonly KubeObject[]): void {
    const { objects } = this.context;
    const { namespace, name, uid } = service.metadata;
    if (service.metadata.deletionTimestamp || objects.namespaceTerminating(namespace)) return;
    // A Service without a selector has its endpoints written by its users, not by these controllers.
    if (!hasSelector(service)) {
      this.synced.delete(uid);
      return;
    }
    const pods = namespacePods
      .filter((pod) => selects(service, pod) && pod.status?.podIP && !isPodTerminal(pod))
      .sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
    this.synced.set(uid, { namespace, name, pods: new Set(pods.map((pod) => pod.metadata.uid)) });
    this.syncSlices(service, pods);
    this.syncEndpoints(service, pods);
  }

  // The service's slices: one per set of resolved ports, at most 100 endpoints each, and a
  // placeholder without ports or endpoints when no pod is selected, as the controller keeps.
  private syncSlices(service: KubeObject, pods: readonly KubeObject[]): void {
    const { context } = this;
    const publishNotReady = service.spec?.publishNotReadyAddresses === true;
    const groups = new Map<string, { ports: KubeObject[]; endpoints: KubeObject[] }>();
    for (const pod of pods) {
      const ports = resolvedPorts(service, pod);
      const key = JSON.stringify(ports);
      if (!groups.has(key)) groups.set(key, { ports, endpoints: [] });
      const ready = isPodReady(pod);
      const terminating = isPodTerminating(pod);
      const zone = this.zoneOf(pod.spec?.nodeName);
      groups.get(key)!.endpoints.push({
        addresses: [pod.status.podIP],
        conditions: {
          ready: publishNotReady || (ready && !terminating),
          serving: publishNotReady || ready,
          terminating,
        },
        ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
        targetRef: {
          kind: 'Pod',
          namespace: pod.metadata.namespace,
          name: pod.metadata.name,
          uid: pod.metadata.uid,
        },
        ...(zone ? { zone } : {}),
      });
    }
    const wanted: { ports: KubeObject[]; endpoints: KubeObject[] }[] = [];
    for (const { ports, endpoints } of groups.values()) {
      for (let start = 0; start < endpoints.length; start += maxEndpointsPerSlice)
        wanted.push({ ports, endpoints: endpoints.slice(start, start + maxEndpointsPerSlice) });
    }
    if (wanted.length === 0) wanted.push({ ports: [], endpoints: [] });
    const labels = {
      ...ownLabels(service),
      [serviceNameLabel]: service.metadata.name,
      [managedByLabel]: endpointSliceController,
    };
    const type = context.type('discovery.k8s.io', 'EndpointSlice');
    const existing = context.objects
      .owned(type, service)
      .filter((slice) => slice.metadata.labels?.[managedByLabel] === endpointSliceController)
      .sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
    for (const [index, { ports, endpoints }] of wanted.entries()) {
      const slice = existing[index];
      const body = { addressType: 'IPv4', endpoints, ports };
      if (!slice) {
        createOwned(context, service, 'discovery.k8s.io', 'EndpointSlice', {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { generateName: `${service.metadata.name}-`, labels },
          ...body,
        });
      } else if (!deepEqual(slice.metadata.labels, labels) || !sameBody(slice, body)) {
        writeObject(context, slice, { ...slice, metadata: { ...slice.metadata, labels }, ...body });
      }
    }
    for (const extra of existing.slice(wanted.length)) remove(context, extra);
  }

  // The legacy Endpoints: ready addresses and not-ready ones per set of ports; a pod that
  // is terminating is left out unless the Service publishes not-ready addresses.
  private syncEndpoints(service: KubeObject, pods: readonly KubeObject[]): void {
    const { context } = this;
    const { objects } = context;
    const publishNotReady = service.spec?.publishNotReadyAddresses === true;
    const subsets = new Map<string, KubeObject>();
    for (const pod of pods) {
      if (isPodTerminating(pod) && !publishNotReady) continue;
      const ports = resolvedPorts(service, pod);
      const key = JSON.stringify(ports);
      if (!subsets.has(key)) subsets.set(key, { addresses: [], notReadyAddresses: [], ports });
      const address = {
        ip: pod.status.podIP,
        ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
        targetRef: {
          kind: 'Pod',
          namespace: pod.metadata.namespace,
          name: pod.metadata.name,
          uid: pod.metadata.uid,
        },
      };
      subsets.get(key)![publishNotReady || isPodReady(pod) ? 'addresses' : 'notReadyAddresses'].push(address);
    }
    const written = [...subsets.values()].map((subset) => ({
      ...(subset.addresses.length ? { addresses: subset.addresses.sort(byIp) } : {}),
      ...(subset.notReadyAddresses.length ? { notReadyAddresses: subset.notReadyAddresses.sort(byIp) } : {}),
      ...(subset.ports.length ? { ports: subset.ports } : {}),
    }));
    const labels = ownLabels(service);
    const body = { ...(written.length ? { subsets: written } : {}) };
    const type = context.type('', 'Endpoints');
    const live = objects.find(type, service.metadata.namespace, service.metadata.name);
    if (!live) {
      objects.create(
        type,
        objects.prepareCreate(
          type,
          {
            apiVersion: 'v1',
            kind: 'Endpoints',
            metadata: { name: service.metadata.name, ...(Object.keys(labels).length ? { labels } : {}) },
            ...body,
          },
          service.metadata.namespace,
        ),
      );
      return;
    }
    const next: KubeObject = { ...live, metadata: { ...live.metadata, labels }, ...body };
    if (!body.subsets) delete next.subsets;
    if (!deepEqual(live.metadata.labels ?? {}, labels) || !deepEqual(live.subsets, body.subsets))
      writeObject(context, live, next);
  }

  // A Service that is gone takes its Endpoints with it (its slices go as its dependents).
  private forget(uid: string): void {
    const known = this.synced.get(uid)!;
    this.synced.delete(uid);
    const type = this.context.type('', 'Endpoints');
    const endpoints = this.context.objects.find(type, known.namespace, known.name);
    const successor = this.context.objects.find(
      this.context.type('', 'Service'),
      known.namespace,
      known.name,
    );
    if (endpoints && !successor && !this.context.objects.namespaceTerminating(known.namespace))
      remove(this.context, endpoints);
  }

  private zoneOf(nodeName: string | undefined): string | undefined {
    if (!nodeName) return undefined;
    const node = this.context.objects.find(this.context.type('', 'Node'), undefined, nodeName);
    return node?.metadata.labels?.['topology.kubernetes.io/zone'];
  }
}

function memo<T>(read: (key: string) => T): (key: string) => T {
  const known = new Map<string, T>();
  return (key) => {
    if (!known.has(key)) known.set(key, read(key));
    return known.get(key)!;
  };
}

function hasSelector(service: KubeObject): boolean {
  return Object.keys(service.spec?.selector ?? {}).length > 0 && service.spec?.type !== 'ExternalName';
}

function selects(service: KubeObject, pod: KubeObject): boolean {
  if (!hasSelector(service)) return false;
  const labels: Record<string, string> = pod.metadata.labels ?? {};
  return Object.entries(service.spec.selector as Record<string, string>).every(
    ([key, value]) => labels[key] === value,
  );
}

// The Service's ports as a pod serves them: a named target port is looked up among the
// pod's container ports, and a port the pod does not have is left out for that pod.
function resolvedPorts(service: KubeObject, pod: KubeObject): KubeObject[] {
  const ports: KubeObject[] = [];
  for (const port of (service.spec?.ports ?? []) as KubeObject[]) {
    const target = port.targetPort ?? port.port;
    let number: number | undefined = typeof target === 'number' ? target : Number(target) || undefined;
    if (number === undefined) {
      const protocol = port.protocol ?? 'TCP';
      for (const container of (pod.spec?.containers ?? []) as KubeObject[]) {
        const found = ((container.ports ?? []) as KubeObject[]).find(
          (each) => each.name === target && (each.protocol ?? 'TCP') === protocol,
        );
        if (found) number = Number(found.containerPort);
      }
    }
    if (number === undefined) continue;
    ports.push({
      name: port.name ?? '',
      port: number,
      protocol: port.protocol ?? 'TCP',
      ...(port.appProtocol ? { appProtocol: port.appProtocol } : {}),
    });
  }
  return ports;
}

// The Service's labels the controllers copy onto what they write, and headless marked.
function ownLabels(service: KubeObject): Record<string, string> {
  const labels: Record<string, string> = { ...(service.metadata.labels ?? {}) };
  delete labels[serviceNameLabel];
  delete labels[managedByLabel];
  if (service.spec?.clusterIP === 'None') labels[headlessLabel] = '';
  return labels;
}

function sameBody(slice: KubeObject, body: KubeObject): boolean {
  return (
    slice.addressType === body.addressType &&
    deepEqual(slice.endpoints ?? [], body.endpoints) &&
    deepEqual(slice.ports ?? [], body.ports)
  );
}

// Addresses in IP order, as the Endpoints controller sorts them.
function byIp(a: KubeObject, b: KubeObject): number {
  const octets = (ip: string) => ip.split('.').map(Number);
  const [x, y] = [octets(String(a.ip)), octets(String(b.ip))];
  for (let i = 0; i < Math.max(x.length, y.length); i++)
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}
