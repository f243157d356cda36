import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse, stringify } from 'yaml';
import { ROOT } from '../support/paths.js';
import { tempDir } from '../support/temp.js';

export const CHART = join(ROOT, 'charts/tokengate');

/** One rendered Kubernetes object. */
export type Manifest = Record<string, any> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: any };
};

export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runHelm(helm: string, args: string[]): HelmResult {
  const result = spawnSync(helm, args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, HELM_CACHE_HOME: join(ROOT, '.tools/helm/cache') },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface RenderOptions {
  /** Values files, applied in order. */
  values?: string[];
  /** Values given in code, applied last (written to a temp values file). */
  overrides?: Record<string, unknown>;
  release?: string;
  namespace?: string;
  chart?: string;
}

/** `helm template` of the chart; throws with helm's message when rendering fails. */
export function renderChart(helm: string, options: RenderOptions = {}): Manifest[] {
  const result = templateChart(helm, options);
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return parseManifests(result.stdout);
}

/** `helm template` without interpreting the result, for values that must be refused. */
export function templateChart(helm: string, options: RenderOptions = {}): HelmResult {
  const dir = tempDir('tokengate-helm-');
  try {
    const args = [
      'template',
      options.release ?? 'tokengate',
      options.chart ?? CHART,
      '--namespace',
      options.namespace ?? 'tokengate',
    ];
    for (const file of options.values ?? []) args.push('--values', file);
    if (options.overrides !== undefined) {
      const file = join(dir.path, 'overrides.yaml');
      writeFileSync(file, stringify(options.overrides));
      args.push('--values', file);
    }
    return runHelm(helm, args);
  } finally {
    dir.remove();
  }
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(document.errors[0]!.message);
      return document.toJS() as Manifest | null;
    })
    .filter((manifest): manifest is Manifest => manifest !== null);
}

export function find(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.find(
    (manifest) => manifest.kind === kind && (name === undefined || manifest.metadata.name === name),
  );
  if (found === undefined) throw new Error(`no ${kind}${name ? ` "${name}"` : ''} rendered`);
  return found;
}

/** The tokengate config file from the chart's ConfigMap, parsed. */
export function renderedConfig(manifests: Manifest[], name = 'tokengate'): Record<string, any> {
  return parse(renderedConfigText(manifests, name)) as Record<string, any>;
}

/** The config file text from the ConfigMap `name` (the chart's full name). */
export function renderedConfigText(manifests: Manifest[], name = 'tokengate'): string {
  return find(manifests, 'ConfigMap', name).data['tokengate.yaml'] as string;
}

/** The complete envoy.yaml from the chart's Envoy ConfigMap, parsed. */
export function renderedEnvoyConfig(
  manifests: Manifest[],
  name = 'tokengate',
  key = 'envoy.yaml',
): Record<string, any> {
  return parse(find(manifests, 'ConfigMap', `${name}-envoy`).data[key]) as Record<string, any>;
}
