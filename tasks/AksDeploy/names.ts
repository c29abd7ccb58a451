import { groupOf, type KubeObject } from '../shared/kubernetes/object';
import { excerpt } from '../shared/redaction';
import { TaskError } from '../shared/task-error';
import type { ManifestObject } from './manifests';

/**
 * The name rules the API server applies (k8s.io/apimachinery/pkg/util/validation and
 * each kind's ValidateObjectMeta call), checked before any request so that a bad name
 * is one line naming the rule instead of a 404 or 422 from the cluster.
 */
export type NameRule = 'dns1123Label' | 'dns1123Subdomain' | 'dns1035Label' | 'pathSegment';

const dns1123Label = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const dns1035Label = /^[a-z](?:[-a-z0-9]*[a-z0-9])?$/;

/** How long a name of each rule may be. */
const ruleMaxLength: Readonly<Record<NameRule, number>> = {
  dns1123Label: 63,
  dns1123Subdomain: 253,
  dns1035Label: 63,
  pathSegment: Number.POSITIVE_INFINITY,
};

/** What the API server checks for a built-in kind. */
interface KindNames {
  readonly rule: NameRule;
  /** A limit shorter than the rule's own, where the server has one. */
  readonly maxLength?: number;
  readonly namespaced: boolean;
}

const subdomain = (namespaced: boolean): KindNames => ({ rule: 'dns1123Subdomain', namespaced });

/**
 * Built-in kinds by `group/Kind`: their name rule, and whether they live in a namespace
 * (for others, discovery says so). A Job's name becomes a pod label (63 characters), a
 * CronJob's gets an 11-character suffix for its Jobs (52). Kinds not listed (custom
 * resources, for example) only have to be a valid path segment.
 */
const builtInKinds: Readonly<Record<string, KindNames>> = {
  '/Namespace': { rule: 'dns1123Label', namespaced: false },
  '/Service': { rule: 'dns1035Label', namespaced: true },
  '/Pod': subdomain(true),
  '/ConfigMap': subdomain(true),
  '/Secret': subdomain(true),
  '/ServiceAccount': subdomain(true),
  '/PersistentVolumeClaim': subdomain(true),
  '/ReplicationController': subdomain(true),
  '/Endpoints': subdomain(true),
  '/LimitRange': subdomain(true),
  '/ResourceQuota': subdomain(true),
  '/PersistentVolume': subdomain(false),
  'apps/Deployment': subdomain(true),
  'apps/StatefulSet': subdomain(true),
  'apps/DaemonSet': subdomain(true),
  'apps/ReplicaSet': subdomain(true),
  'batch/Job': { rule: 'dns1123Subdomain', maxLength: 63, namespaced: true },
  'batch/CronJob': { rule: 'dns1123Subdomain', maxLength: 52, namespaced: true },
  'networking.k8s.io/Ingress': subdomain(true),
  'networking.k8s.io/NetworkPolicy': subdomain(true),
  'networking.k8s.io/IngressClass': subdomain(false),
  'policy/PodDisruptionBudget': subdomain(true),
  'autoscaling/HorizontalPodAutoscaler': subdomain(true),
  'storage.k8s.io/StorageClass': subdomain(false),
  'scheduling.k8s.io/PriorityClass': subdomain(false),
  'apiextensions.k8s.io/CustomResourceDefinition': subdomain(false),
  'rbac.authorization.k8s.io/Role': { rule: 'pathSegment', namespaced: true },
  'rbac.authorization.k8s.io/RoleBinding': { rule: 'pathSegment', namespaced: true },
  'rbac.authorization.k8s.io/ClusterRole': { rule: 'pathSegment', namespaced: false },
  'rbac.authorization.k8s.io/ClusterRoleBinding': { rule: 'pathSegment', namespaced: false },
};

/** Whether `name` follows `rule` within `maxLength` characters. */
export function followsRule(name: string, rule: NameRule, maxLength = ruleMaxLength[rule]): boolean {
  if (name.length === 0 || name.length > maxLength) return false;
  switch (rule) {
    case 'dns1123Label':
      return dns1123Label.test(name);
    case 'dns1123Subdomain':
      return dns1123Subdomain.test(name);
    case 'dns1035Label':
      return dns1035Label.test(name);
    case 'pathSegment':
      return name !== '.' && name !== '..' && !/[/%]/.test(name);
  }
}

/** Whether `name` can name a namespace. */
export function isNamespaceName(name: string): boolean {
  return followsRule(name, 'dns1123Label');
}

/** Whether `name` can name a Secret (and so an image pull secret). */
export function isSecretName(name: string): boolean {
  return followsRule(name, 'dns1123Subdomain');
}

/** The longest part of a name or value quoted in an error line. */
const quotedMaxChars = 200;

/** A name as an error line quotes it: cut to 200 characters. */
export function quoted(text: string): string {
  return excerpt(text, quotedMaxChars);
}

/** The rule for an object's name, by its kind. */
export function nameRuleOf(object: KubeObject): { rule: NameRule; maxLength: number } {
  const known = builtInKinds[`${groupOf(object)}/${object.kind}`];
  const rule = known?.rule ?? 'pathSegment';
  return { rule, maxLength: known?.maxLength ?? ruleMaxLength[rule] };
}

/**
 * Every object's name, and the namespace of every object of a built-in namespaced kind,
 * as the API server would check them; the first bad one is a TaskError naming the file,
 * the document, the rule and a valid example. Other kinds' namespaces are checked with
 * checkManifestNamespace once discovery says whether they have one.
 */
export function checkManifestNames(manifests: readonly ManifestObject[]): void {
  for (const source of manifests) {
    const { object, file, document } = source;
    const name = object.metadata.name ?? '';
    const { rule, maxLength } = nameRuleOf(object);
    if (!followsRule(name, rule, maxLength)) {
      if (name.length > maxLength && followsRule(name, rule)) {
        throw new TaskError('ManifestNameTooLong', [
          file,
          document,
          object.kind,
          quoted(name),
          name.length,
          maxLength,
        ]);
      }
      throw new TaskError(nameRuleMessage[rule], [file, document, quoted(name), object.kind]);
    }
    const namespaced = builtInKinds[`${groupOf(object)}/${object.kind}`]?.namespaced;
    if (namespaced) checkManifestNamespace(source);
  }
}

/**
 * The manifest's own namespace of a namespaced object, when it names one. (For a
 * cluster-scoped object the server ignores it, and so does the task.)
 */
export function checkManifestNamespace({ object, file, document }: ManifestObject): void {
  const namespace: unknown = object.metadata.namespace;
  if (namespace === undefined || namespace === null || namespace === '') return;
  if (typeof namespace === 'string' && isNamespaceName(namespace)) return;
  throw new TaskError('ManifestNamespaceInvalid', [
    file,
    document,
    object.kind,
    quoted(object.metadata.name ?? ''),
    quoted(String(namespace)),
  ]);
}

/** The message that explains each rule, with an example of a valid name. */
const nameRuleMessage: Readonly<Record<NameRule, string>> = {
  dns1123Label: 'ManifestNameNotLabel',
  dns1123Subdomain: 'ManifestNameNotSubdomain',
  dns1035Label: 'ManifestNameNotDns1035Label',
  pathSegment: 'ManifestNameNotPathSegment',
};
