/**
 * The checks of the Kubernetes Pod Security Standards, "baseline" and "restricted" profiles, for
 * one pod spec (kubernetes.io/docs/concepts/security/pod-security-standards). Returns one line per
 * violation; an empty list means the pod would be admitted in a namespace labelled
 * `pod-security.kubernetes.io/enforce: restricted`.
 */
export function restrictedViolations(spec: Record<string, any>): string[] {
  const problems: string[] = [];
  const pod = spec.securityContext ?? {};
  const containers: Record<string, any>[] = [
    ...(spec.initContainers ?? []),
    ...(spec.containers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ];

  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const)
    if (spec[field] === true) problems.push(`spec.${field} is true`);
  if (pod.windowsOptions?.hostProcess === true) problems.push('pod uses a Windows host process');

  const allowedVolumes = [
    'configMap',
    'csi',
    'downwardAPI',
    'emptyDir',
    'ephemeral',
    'persistentVolumeClaim',
    'projected',
    'secret',
  ];
  for (const volume of spec.volumes ?? []) {
    const kinds = Object.keys(volume).filter((key) => key !== 'name');
    for (const kind of kinds)
      if (!allowedVolumes.includes(kind))
        problems.push(`volume "${volume.name}" is of type ${kind}`);
  }

  const safeSysctls = [
    'kernel.shm_rmid_forced',
    'net.ipv4.ip_local_port_range',
    'net.ipv4.ip_unprivileged_port_start',
    'net.ipv4.tcp_syncookies',
    'net.ipv4.ping_group_range',
    'net.ipv4.ip_local_reserved_ports',
    'net.ipv4.tcp_keepalive_time',
    'net.ipv4.tcp_fin_timeout',
    'net.ipv4.tcp_keepalive_intvl',
    'net.ipv4.tcp_keepalive_probes',
  ];
  for (const sysctl of pod.sysctls ?? [])
    if (!safeSysctls.includes(sysctl.name)) problems.push(`unsafe sysctl ${sysctl.name}`);

  checkSeLinux(pod.seLinuxOptions, 'pod', problems);
  if (pod.runAsUser === 0) problems.push('pod runs as user 0');
  if (pod.seccompProfile !== undefined && !seccompOk(pod.seccompProfile))
    problems.push(`pod seccomp profile is ${pod.seccompProfile.type}`);
  if (pod.appArmorProfile?.type === 'Unconfined')
    problems.push('pod AppArmor profile is Unconfined');

  for (const container of containers) {
    const name = `container "${container.name}"`;
    const context = container.securityContext ?? {};

    if (context.privileged === true) problems.push(`${name} is privileged`);
    if (context.windowsOptions?.hostProcess === true) problems.push(`${name} is a host process`);
    if (context.procMount !== undefined && context.procMount !== 'Default')
      problems.push(`${name} procMount is ${context.procMount}`);
    for (const port of container.ports ?? [])
      if (port.hostPort !== undefined && port.hostPort !== 0)
        problems.push(`${name} uses host port ${port.hostPort}`);
    checkSeLinux(context.seLinuxOptions, name, problems);
    if (context.appArmorProfile?.type === 'Unconfined')
      problems.push(`${name} AppArmor profile is Unconfined`);

    if (context.allowPrivilegeEscalation !== false)
      problems.push(`${name} does not set allowPrivilegeEscalation: false`);

    const nonRoot = context.runAsNonRoot ?? pod.runAsNonRoot;
    if (nonRoot !== true) problems.push(`${name} does not set runAsNonRoot: true`);
    if (context.runAsUser === 0) problems.push(`${name} runs as user 0`);

    const seccomp = context.seccompProfile ?? pod.seccompProfile;
    if (seccomp === undefined || !seccompOk(seccomp))
      problems.push(`${name} has no RuntimeDefault or Localhost seccomp profile`);

    const capabilities = context.capabilities ?? {};
    if (!(capabilities.drop ?? []).includes('ALL'))
      problems.push(`${name} does not drop ALL capabilities`);
    for (const added of capabilities.add ?? [])
      if (added !== 'NET_BIND_SERVICE') problems.push(`${name} adds capability ${added}`);
  }
  return problems;
}

function seccompOk(profile: { type?: string }): boolean {
  return profile.type === 'RuntimeDefault' || profile.type === 'Localhost';
}

function checkSeLinux(options: Record<string, any> | undefined, where: string, problems: string[]) {
  if (options === undefined) return;
  const types = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];
  if (options.type !== undefined && !types.includes(options.type))
    problems.push(`${where} SELinux type is ${options.type}`);
  if (options.user !== undefined || options.role !== undefined)
    problems.push(`${where} sets an SELinux user or role`);
}
