// The pod-bearing objects the chart renders (Deployments and Jobs), typed down to what the
// chart tests read; one set of types for every test file.
import type { Metadata } from './chart.ts';

export type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
};
export type Resources = { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
type HttpProbe = { httpGet?: { path: string; port: string | number } };
export type Container = {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: HttpProbe;
  readinessProbe?: HttpProbe;
  resources?: Resources;
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    privileged?: boolean;
    runAsNonRoot?: boolean;
    [field: string]: unknown;
  };
  volumeMounts?: { name: string; mountPath: string }[];
};
export type PodSpec = {
  containers: Container[];
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    seccompProfile?: { type: string };
    [field: string]: unknown;
  };
  // biome-ignore lint/suspicious/noExplicitAny: volume sources differ
  volumes?: { name: string; [source: string]: any }[];
};
/** A Deployment or Job, typed down to the pod template that the tests read. */
export type Workload = {
  kind: string;
  metadata: Metadata;
  spec: {
    replicas?: number;
    selector?: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: PodSpec;
    };
  };
};
