// NetworkPolicy evaluation, for the parts of the API the chart uses: who may reach whom.
import type { K8sObject } from './chart.ts';
import { type LabelSelector, namespace, type Peer, type PolicyRule } from './hardening.ts';

export function selects(
  selector: LabelSelector | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  for (const { key, operator, values: allowed = [] } of selector.matchExpressions ?? []) {
    const value = labels[key];
    if (operator === 'In' && (value === undefined || !allowed.includes(value))) return false;
    if (operator === 'NotIn' && value !== undefined && allowed.includes(value)) return false;
    if (operator === 'Exists' && value === undefined) return false;
    if (operator === 'DoesNotExist' && value !== undefined) return false;
  }
  return true;
}

export type Source = {
  namespace: string;
  namespaceLabels: Record<string, string>;
  pod: Record<string, string>;
};

export function peerAdmits(peer: Peer, source: Source): boolean {
  if (peer.ipBlock) return false; // no pod of the tests is addressed by IP
  if (peer.namespaceSelector === undefined) {
    // A pod selector alone means pods of the policy's own namespace.
    return source.namespace === namespace && selects(peer.podSelector, source.pod);
  }
  return (
    selects(peer.namespaceSelector, source.namespaceLabels) && selects(peer.podSelector, source.pod)
  );
}

/**
 * Whether the policies let `source` connect to a pod with `labels` on `port`, as
 * Kubernetes defines it: allowed when no policy selects the pod for Ingress, else when
 * any rule of any policy that selects it admits the source and the port.
 */
export function ingressAllowed(
  policies: K8sObject[],
  labels: Record<string, string>,
  port: number,
  source: Source,
): boolean {
  const applying = policies.filter(
    (p) =>
      (p.spec.policyTypes ?? ['Ingress']).includes('Ingress') &&
      selects(p.spec.podSelector, labels),
  );
  if (applying.length === 0) return true;
  return applying.some((p) =>
    ((p.spec.ingress ?? []) as PolicyRule[]).some(
      (rule) =>
        (!rule.ports || rule.ports.some((p) => p.port === port)) &&
        (!rule.from || rule.from.some((peer) => peerAdmits(peer, source))),
    ),
  );
}

export const fromNamespace = (name: string, pod: Record<string, string> = {}): Source => ({
  namespace: name,
  namespaceLabels: { 'kubernetes.io/metadata.name': name },
  pod,
});
export const appPod = (name: string) => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/instance': 'shop',
  'app.kubernetes.io/part-of': 'shop',
});
