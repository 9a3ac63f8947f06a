import type { ConfigMap, Container, Pod, Secret } from "@corral/api";

/** What env resolution reads besides the pod: its namespace's ConfigMaps and Secrets by name. */
export interface EnvSources {
  configMap(name: string): ConfigMap | undefined;
  secret(name: string): Secret | undefined;
  podIP: string;
  hostIP: string;
  nodeName: string;
}

/** A reason the container cannot be configured: shown as CreateContainerConfigError. */
export class ConfigError extends Error {}

const decoder = new TextDecoder();

/**
 * The container's environment, as the kubelet builds it: envFrom first, then env, later names
 * overriding earlier ones; $(VAR) references to earlier variables are expanded.
 */
export function resolveEnv(pod: Pod, c: Container, src: EnvSources): { key: string; value: string }[] {
  const env = new Map<string, string>();
  for (const from of c.envFrom) {
    if (from.configMapRef) {
      const cm = src.configMap(from.configMapRef.name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data)) env.set(from.prefix + k, v);
    }
    if (from.secretRef) {
      const s = src.secret(from.secretRef.name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new ConfigError(`secret "${from.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(s.data)) env.set(from.prefix + k, decoder.decode(v));
    }
  }
  for (const e of c.env) {
    if (!e.valueFrom) {
      env.set(e.name, expand(e.value, env));
      continue;
    }
    const v = valueFrom(pod, e.name, e.valueFrom, src);
    if (v !== undefined) env.set(e.name, v);
  }
  return [...env].map(([key, value]) => ({ key, value }));
}

function valueFrom(pod: Pod, name: string, vf: NonNullable<Container["env"][number]["valueFrom"]>, src: EnvSources): string | undefined {
  if (vf.configMapKeyRef) {
    const ref = vf.configMapKeyRef;
    const cm = src.configMap(ref.name);
    const v = cm?.data[ref.key] ?? (cm?.binaryData[ref.key] ? decoder.decode(cm.binaryData[ref.key]) : undefined);
    if (v === undefined && !ref.optional) {
      throw new ConfigError(cm ? `couldn't find key ${ref.key} in ConfigMap ${pod.metadata?.namespace}/${ref.name}` : `configmap "${ref.name}" not found`);
    }
    return v;
  }
  if (vf.secretKeyRef) {
    const ref = vf.secretKeyRef;
    const s = src.secret(ref.name);
    const raw = s?.data[ref.key];
    if (raw === undefined && !ref.optional) {
      throw new ConfigError(s ? `couldn't find key ${ref.key} in Secret ${pod.metadata?.namespace}/${ref.name}` : `secret "${ref.name}" not found`);
    }
    return raw === undefined ? undefined : decoder.decode(raw);
  }
  if (vf.fieldRef) {
    const path = vf.fieldRef.fieldPath;
    const m = pod.metadata;
    const labelOrAnnotation = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
    if (labelOrAnnotation) {
      const map = labelOrAnnotation[1] === "labels" ? m?.labels : m?.annotations;
      return map?.[labelOrAnnotation[2]!] ?? "";
    }
    switch (path) {
      case "metadata.name":
        return m?.name ?? "";
      case "metadata.namespace":
        return m?.namespace ?? "";
      case "metadata.uid":
        return m?.uid ?? "";
      case "spec.nodeName":
        return src.nodeName;
      case "spec.serviceAccountName":
        return pod.spec?.serviceAccountName ?? "";
      case "status.podIP":
        return src.podIP;
      case "status.hostIP":
        return src.hostIP;
      default:
        throw new ConfigError(`env ${name}: unsupported fieldRef ${path}`);
    }
  }
  return undefined;
}

/** $(NAME) → value of an earlier variable; $$(NAME) → literal $(NAME); unknown names stay as written. */
export function expand(s: string, env: ReadonlyMap<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === "$$") return "$";
    return env.get(name!) ?? m;
  });
}
