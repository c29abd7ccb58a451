import { badRequest, type KubeObject } from './object';
import { groupVersion, type ResourceType } from './resources';

/** What a request asks to do, as an authorizer sees it (Kubernetes' request attributes). */
export interface AccessRequest {
  readonly user: string;
  readonly verb: string;
  /** '' for the core group. */
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** The rules a SelfSubjectRulesReview lists (authorization.k8s.io/v1 SubjectRulesReviewStatus). */
export interface Rules {
  readonly resourceRules: readonly KubeObject[];
  readonly nonResourceRules: readonly KubeObject[];
}

/** A cluster's authorizer, as the REST layer and the reviews ask it. */
export interface Authorization {
  /** Whether a user may do something (403 Forbidden otherwise). */
  allows(access: AccessRequest): boolean;
  /** Everything a user may do in a namespace, or undefined when the authorizer cannot list it. */
  rules(user: string, namespace: string): Rules | undefined;
}

/** Why AKS's Azure RBAC authorizer refuses, in its words (the end of its 403 messages). */
export const deniedReason =
  'User does not have access to the resource in Azure. Update role assignment to allow access.';

/**
 * What any authenticated user may do whatever the authorizer says: RBAC's bootstrap
 * roles system:basic-user (review itself) and system:discovery, bound to system:authenticated.
 */
export const basicUserRules: Rules = {
  resourceRules: [
    {
      verbs: ['create'],
      apiGroups: ['authorization.k8s.io'],
      resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
    },
    { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
  ],
  nonResourceRules: [
    {
      verbs: ['get'],
      nonResourceURLs: [
        '/api',
        '/api/*',
        '/apis',
        '/apis/*',
        '/healthz',
        '/livez',
        '/openapi',
        '/openapi/*',
        '/readyz',
        '/version',
        '/version/',
      ],
    },
  ],
};

const reviewGroups = ['authorization.k8s.io', 'authentication.k8s.io'];

/** True for the review types: created, answered at once, never stored. */
export function isReview(type: ResourceType): boolean {
  return reviewGroups.includes(type.group) && /Review$/.test(type.kind);
}

/** True for the reviews a user asks about itself, which every user may create. */
export function isSelfReview(type: ResourceType): boolean {
  return isReview(type) && type.kind.startsWith('SelfSubject');
}

/** Who asks, and what the answers come from. */
export interface ReviewContext {
  readonly user: string;
  /** The namespace of the URL (LocalSubjectAccessReview). */
  readonly namespace?: string;
  readonly authorization: Authorization;
  readonly userOfToken: (token: string) => string | undefined;
}

/**
 * Answers a review as the API server does: the request's spec with a status filled in.
 * `kubectl auth can-i` (SelfSubjectAccessReview, SelfSubjectRulesReview with --list) and
 * `kubectl auth whoami` (SelfSubjectReview) read these.
 * https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access
 */
export function answerReview(type: ResourceType, body: KubeObject, context: ReviewContext): KubeObject {
  const spec = body.spec ?? {};
  const answer = (status: KubeObject, withSpec = true): KubeObject => ({
    kind: type.kind,
    apiVersion: groupVersion(type),
    metadata: { creationTimestamp: null, ...(body.metadata ?? {}) },
    ...(withSpec ? { spec } : {}),
    status,
  });
  const userInfo = (user: string): KubeObject => ({ username: user, groups: ['system:authenticated'] });
  switch (type.kind) {
    case 'SelfSubjectReview':
      return answer({ userInfo: userInfo(context.user) }, false);
    case 'TokenReview': {
      const user = spec.token ? context.userOfToken(String(spec.token)) : undefined;
      return answer(
        user ? { authenticated: true, user: userInfo(user) } : { user: {}, error: 'invalid bearer token' },
      );
    }
    case 'SelfSubjectRulesReview': {
      const namespace = String(spec.namespace ?? '');
      const rules = context.authorization.rules(context.user, namespace);
      // An authorizer that cannot list rules (AKS's Azure RBAC webhook) leaves only RBAC's.
      return answer(
        rules
          ? { ...rules, incomplete: false }
          : {
              ...basicUserRules,
              incomplete: true,
              evaluationError: 'webhook authorizer does not support user rule resolution',
            },
      );
    }
    case 'SelfSubjectAccessReview':
    case 'SubjectAccessReview':
    case 'LocalSubjectAccessReview': {
      const user = type.kind === 'SelfSubjectAccessReview' ? context.user : String(spec.user ?? '');
      if (type.kind !== 'SelfSubjectAccessReview' && !user && !(spec.groups ?? []).length) {
        throw badRequest(
          `${type.kind}.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified`,
        );
      }
      const attributes = spec.resourceAttributes;
      if (!attributes) {
        // Non-resource URLs: what system:discovery grants.
        const path = String(spec.nonResourceAttributes?.path ?? '');
        const allowed = spec.nonResourceAttributes?.verb === 'get' && matchesNonResource(path);
        return answer(allowed ? { allowed: true } : { allowed: false, reason: deniedReason });
      }
      const namespace = type.kind === 'LocalSubjectAccessReview' ? context.namespace : attributes.namespace;
      const allowed = context.authorization.allows({
        user,
        verb: String(attributes.verb ?? ''),
        group: String(attributes.group ?? ''),
        resource: String(attributes.resource ?? ''),
        ...(attributes.subresource ? { subresource: String(attributes.subresource) } : {}),
        ...(namespace ? { namespace: String(namespace) } : {}),
        ...(attributes.name ? { name: String(attributes.name) } : {}),
      });
      return answer(allowed ? { allowed: true } : { allowed: false, reason: deniedReason });
    }
    default:
      throw badRequest(`${type.kind} is not a review`);
  }
}

function matchesNonResource(path: string): boolean {
  return (basicUserRules.nonResourceRules[0]!.nonResourceURLs as string[]).some((pattern) =>
    pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern,
  );
}
