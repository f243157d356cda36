import type { Manifest } from './helm.js';

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/** The npm package whose models cover an API group. */
function packageOf(group: string): string {
  if (group.endsWith('.istio.io')) return '@kubernetes-models/istio';
  if (group === 'monitoring.coreos.com') return '@kubernetes-models/prometheus-operator';
  return 'kubernetes-models';
}

/**
 * Validates an object against the OpenAPI schema of its apiVersion and kind, as shipped by the
 * kubernetes-models packages. Throws when the kind is unknown or the object does not conform.
 */
export async function validateManifest(manifest: Manifest): Promise<void> {
  const [group, version] = manifest.apiVersion.includes('/')
    ? manifest.apiVersion.split('/')
    : ['', manifest.apiVersion];
  const module =
    group === '' ? `kubernetes-models/${version}` : `${packageOf(group!)}/${group}/${version}`;

  let models: Record<string, ModelClass>;
  try {
    models = (await import(module)) as Record<string, ModelClass>;
  } catch {
    throw new Error(`no schema for apiVersion ${manifest.apiVersion}`);
  }
  const Model = models[manifest.kind];
  if (Model === undefined)
    throw new Error(`no schema for ${manifest.kind} in ${manifest.apiVersion}`);

  try {
    new Model(manifest).validate();
  } catch (error) {
    throw new Error(`${manifest.kind} "${manifest.metadata.name}": ${(error as Error).message}`);
  }
}
