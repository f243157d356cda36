import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { restrictedViolations } from './pod-security.js';

const compliant = () => ({
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [
    {
      name: 'app',
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    },
  ],
  volumes: [{ name: 'config', configMap: { name: 'x' } }],
});

describe('the restricted Pod Security Standard check', () => {
  test('passes a pod that meets every rule', () => {
    assert.deepEqual(restrictedViolations(compliant()), []);
  });

  const broken: [string, (spec: any) => void][] = [
    ['a privileged container', (s) => (s.containers[0].securityContext.privileged = true)],
    [
      'privilege escalation left on',
      (s) => delete s.containers[0].securityContext.allowPrivilegeEscalation,
    ],
    [
      'capabilities not all dropped',
      (s) => (s.containers[0].securityContext.capabilities.drop = ['NET_RAW']),
    ],
    [
      'an added capability',
      (s) => (s.containers[0].securityContext.capabilities.add = ['SYS_ADMIN']),
    ],
    ['no runAsNonRoot', (s) => delete s.securityContext.runAsNonRoot],
    ['user 0', (s) => (s.containers[0].securityContext.runAsUser = 0)],
    ['no seccomp profile', (s) => delete s.securityContext.seccompProfile],
    [
      'an Unconfined seccomp profile',
      (s) => (s.securityContext.seccompProfile.type = 'Unconfined'),
    ],
    ['a hostPath volume', (s) => s.volumes.push({ name: 'host', hostPath: { path: '/' } })],
    ['host networking', (s) => (s.hostNetwork = true)],
    ['a host port', (s) => (s.containers[0].ports = [{ containerPort: 80, hostPort: 80 }])],
    [
      'an init container that breaks a rule',
      (s) => (s.initContainers = [{ name: 'init', securityContext: {} }]),
    ],
  ];
  for (const [what, breakIt] of broken) {
    test(`reports ${what}`, () => {
      const spec = compliant();
      breakIt(spec);
      assert.notDeepEqual(restrictedViolations(spec), []);
    });
  }
});
