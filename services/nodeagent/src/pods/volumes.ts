import type { ConfigMap, Container, KeyToPath, Pod, Secret, Volume } from "@corral/api";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, normalize } from "node:path";
import type { NodePaths } from "../paths.js";
import { ConfigError } from "./env.js";

/** A volume that cannot be set up: shown as a FailedMount event and the pod waits. */
export class MountError extends Error {}

export interface VolumeSources {
  configMap(name: string): ConfigMap | undefined;
  secret(name: string): Secret | undefined;
}

/** Where each of the pod's volumes is on the host. Pure: the directories are made by setUpVolumes. */
export function volumeHostPaths(pod: Pod, paths: NodePaths): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of pod.spec?.volumes ?? []) out.set(v.name, volumeHostPath(pod, v, paths));
  return out;
}

function volumeHostPath(pod: Pod, v: Volume, paths: NodePaths): string {
  if (v.hostPath) return v.hostPath.path;
  if (v.persistentVolumeClaim) return paths.claimDir(pod.metadata!.namespace, v.persistentVolumeClaim.claimName);
  return paths.volumeDir(pod.metadata!.uid, v.name);
}

/** The CRI mounts of one container: its volumeMounts resolved to host paths. */
export function containerMounts(c: Container, hostPaths: ReadonlyMap<string, string>) {
  return c.volumeMounts.map((m) => {
    const host = hostPaths.get(m.name);
    if (host === undefined) throw new ConfigError(`volumeMount "${m.name}": no volume of that name in the pod`);
    const sub = m.subPath ? normalize(m.subPath) : "";
    if (sub.startsWith("..")) throw new ConfigError(`volumeMount "${m.name}": subPath must not leave the volume`);
    return { containerPath: m.mountPath, hostPath: sub ? join(host, sub) : host, readonly: m.readOnly };
  });
}

/** The files a configMap or secret volume holds: every key, or just the items asked for. */
export function projectedFiles(
  data: Record<string, Uint8Array>,
  items: readonly KeyToPath[],
  defaultMode: number,
  what: string,
): { path: string; content: Uint8Array; mode: number }[] {
  if (items.length === 0) return Object.entries(data).map(([k, content]) => ({ path: k, content, mode: defaultMode }));
  return items.map((it) => {
    const content = data[it.key];
    if (content === undefined) throw new MountError(`${what}: key "${it.key}" not found`);
    const path = normalize(it.path);
    if (path.startsWith("..") || path.startsWith("/")) throw new MountError(`${what}: item path "${it.path}" must be relative`);
    return { path, content, mode: it.mode ?? defaultMode };
  });
}

const encoder = new TextEncoder();

function configMapData(cm: ConfigMap): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = { ...cm.binaryData };
  for (const [k, v] of Object.entries(cm.data)) out[k] = encoder.encode(v);
  return out;
}

/** Makes the pod's volume directories and writes configMap and secret files (idempotent). */
export async function setUpVolumes(pod: Pod, paths: NodePaths, src: VolumeSources): Promise<void> {
  const uid = pod.metadata!.uid;
  // Every pod has its directory, volumes or not (as the kubelet's pods/<uid>): cleanup finds it.
  await mkdir(paths.podDir(uid), { recursive: true });
  for (const v of pod.spec?.volumes ?? []) await setUpVolume(v, volumeHostPath(pod, v, paths), src);
}

async function setUpVolume(v: Volume, dir: string, src: VolumeSources): Promise<void> {
  if (v.hostPath) {
    const t = v.hostPath.type ?? "";
    if (t === "DirectoryOrCreate") await mkdir(v.hostPath.path, { recursive: true });
    return;
  }
  if (v.persistentVolumeClaim) {
    const claim = v.persistentVolumeClaim.claimName;
    // The name becomes a directory: only a DNS subdomain (what Kubernetes allows a claim) may.
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(claim) || claim.includes("..")) {
      throw new MountError(`volume "${v.name}": persistentVolumeClaim.claimName "${claim}" is not a valid claim name`);
    }
  }
  await mkdir(dir, { recursive: true, mode: 0o777 });
  if (v.emptyDir || v.persistentVolumeClaim) {
    // Writable by any user in the container, as the kubelet makes it.
    await chmod(dir, 0o777);
    return;
  }
  let files: { path: string; content: Uint8Array; mode: number }[] = [];
  if (v.configMap) {
    const cm = src.configMap(v.configMap.name);
    if (!cm) {
      if (v.configMap.optional) return;
      throw new MountError(`MountVolume.SetUp failed for volume "${v.name}" : configmap "${v.configMap.name}" not found`);
    }
    files = projectedFiles(configMapData(cm), v.configMap.items, v.configMap.defaultMode ?? 0o644, `configmap "${v.configMap.name}"`);
  } else if (v.secret) {
    const s = src.secret(v.secret.secretName);
    if (!s) {
      if (v.secret.optional) return;
      throw new MountError(`MountVolume.SetUp failed for volume "${v.name}" : secret "${v.secret.secretName}" not found`);
    }
    files = projectedFiles(s.data, v.secret.items, v.secret.defaultMode ?? 0o644, `secret "${v.secret.secretName}"`);
  }
  for (const f of files) {
    const p = join(dir, f.path);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, f.content, { mode: f.mode });
    await chmod(p, f.mode);
  }
}

/** Removes everything the pod had on disk (volumes; hostPath volumes are the host's and stay). */
export async function tearDownVolumes(uid: string, paths: NodePaths): Promise<void> {
  await rm(paths.podDir(uid), { recursive: true, force: true });
}
