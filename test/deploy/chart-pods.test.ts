import { beforeAll, describe, expect, it } from 'vitest';
import { type K8sObject, ofKind, prepareHelm } from './support/chart.ts';
import { allServices, everything, values, workloads } from './support/hardening.ts';
import type { Workload } from './support/workloads.ts';

beforeAll(() => {
  prepareHelm();
}, 15 * 60_000);

describe('every pod', () => {
  let objects: K8sObject[] = [];
  beforeAll(() => {
    objects = everything();
  });

  it('runs non-root, on a read-only root, without privilege escalation or capabilities, under seccomp RuntimeDefault', () => {
    const pods = workloads(objects);
    // Seven Deployments, five migration Jobs and the nats profile's Job.
    expect(pods).toHaveLength(allServices.length + 5 + 1);
    for (const workload of pods) {
      const name = `${workload.kind}/${workload.metadata.name}`;
      const pod = workload.spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot, name).toBe(true);
      expect(pod.securityContext?.runAsUser, name).toBeGreaterThan(0);
      // The pod-level profile covers the injected daprd as well.
      expect(pod.securityContext?.seccompProfile, name).toEqual({ type: 'RuntimeDefault' });
      for (const container of pod.containers) {
        const where = `${name} ${container.name}`;
        expect(container.securityContext?.allowPrivilegeEscalation, where).toBe(false);
        expect(container.securityContext?.readOnlyRootFilesystem, where).toBe(true);
        expect(container.securityContext?.capabilities, where).toEqual({ drop: ['ALL'] });
        expect(container.securityContext?.privileged, where).toBeUndefined();
        // A read-only root, so /tmp is the one writable place.
        expect(container.volumeMounts, where).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      }
    }
  });

  it('asks for CPU and memory and is limited in both, hook Jobs and the Dapr sidecar included', () => {
    for (const workload of workloads(objects)) {
      for (const container of workload.spec.template.spec.containers) {
        const where = `${workload.kind}/${workload.metadata.name} ${container.name}`;
        expect(Object.keys(container.resources?.requests ?? {}).sort(), where).toEqual([
          'cpu',
          'memory',
        ]);
        expect(Object.keys(container.resources?.limits ?? {}).sort(), where).toEqual([
          'cpu',
          'memory',
        ]);
      }
    }
    for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
      const annotations = deployment.spec.template.metadata.annotations ?? {};
      for (const annotation of ['cpu-request', 'cpu-limit', 'memory-request', 'memory-limit']) {
        expect(
          annotations[`dapr.io/sidecar-${annotation}`],
          `${deployment.metadata.name} ${annotation}`,
        ).toMatch(/^\d+(\.\d+)?(m|Mi|Gi)?$/);
      }
      expect(annotations['dapr.io/sidecar-seccomp-profile-type']).toBe('RuntimeDefault');
    }
  });

  it('mounts no Kubernetes API token, but into the sidecar of an app that reads the Dapr secret store', () => {
    for (const workload of workloads(objects)) {
      const name = `${workload.kind}/${workload.metadata.name}`;
      const pod = workload.spec.template.spec;
      expect(pod.automountServiceAccountToken, name).toBe(false);
      // The namespace's Services as variables would only add names to mistake for settings.
      expect(pod.enableServiceLinks, name).toBe(false);
      for (const container of pod.containers)
        for (const mount of container.volumeMounts ?? [])
          expect(mount.mountPath, name).not.toContain('serviceaccount');
    }
    for (const account of ofKind(objects, 'ServiceAccount'))
      expect(account.automountServiceAccountToken, account.metadata.name).toBe(false);

    const readers = allServices.filter((name) => values.services[name].secretStoreReads?.length);
    expect(readers).toEqual(['users']);
    for (const deployment of ofKind<Workload>(objects, 'Deployment')) {
      const name = deployment.metadata.name;
      const annotations = deployment.spec.template.metadata.annotations ?? {};
      const volume = deployment.spec.template.spec.volumes?.find(
        (v) => v.name === 'kube-api-access',
      );
      // Without a token the built-in `kubernetes` secret store would fail and stop daprd.
      expect(annotations['dapr.io/disable-builtin-k8s-secret-store'], name).toBe('true');
      if (!readers.includes(name)) {
        expect(volume, name).toBeUndefined();
        expect(annotations['dapr.io/volume-mounts'], name).toBeUndefined();
        continue;
      }
      // daprd alone mounts it (the injector's dapr.io/volume-mounts), where client-go reads it.
      expect(annotations['dapr.io/volume-mounts']).toBe(
        'kube-api-access:/var/run/secrets/kubernetes.io/serviceaccount',
      );
      const sources = volume?.projected.sources as Record<string, unknown>[];
      expect(sources.map((source) => Object.keys(source)[0])).toEqual([
        'serviceAccountToken',
        'configMap',
        'downwardAPI',
      ]);
      expect(sources[0]).toEqual({
        serviceAccountToken: { path: 'token', expirationSeconds: 3607 },
      });
      expect(sources[1]).toEqual({
        configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] },
      });
    }
  });
});
