import { appName, appVersion } from './environment';

/** The objects the sample app's manifests hold, as AksDeploy's appliedObjects names them. */
export const sampleAppObjects: readonly string[] = [
  `Namespace//${appName}`,
  `ConfigMap/${appName}/${appName}-config`,
  `Service/${appName}/${appName}`,
  `Deployment/${appName}/${appName}`,
];

/**
 * The sample app's manifests for one environment, as a repository would keep them: the
 * image named by tag in that environment's registry. AksDeploy pins it to the digest
 * given in its `images` input.
 */
export function sampleAppManifests(options: {
  readonly registry: string;
  readonly environment: string;
}): string {
  const labels = `app.kubernetes.io/name: ${appName}`;
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${appName}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${appName}-config
  namespace: ${appName}
data:
  ENVIRONMENT: ${options.environment}
  LOG_LEVEL: info
---
apiVersion: v1
kind: Service
metadata:
  name: ${appName}
  namespace: ${appName}
spec:
  selector:
    ${labels}
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${appName}
  namespace: ${appName}
spec:
  replicas: 2
  selector:
    matchLabels:
      ${labels}
  template:
    metadata:
      labels:
        ${labels}
    spec:
      containers:
        - name: app
          image: ${options.registry}/${appName}:${appVersion}
          ports:
            - containerPort: 8080
          envFrom:
            - configMapRef:
                name: ${appName}-config
          readinessProbe:
            httpGet:
              path: /ready
              port: 8080
`;
}
