import { create } from "@bufbuild/protobuf";
import { JobSpecSchema, LabelSelectorSchema, ObjectMetaSchema, PodTemplateSpecSchema, type Job } from "@corral/api";

// Kubernetes' Job selector generation: a Job without `manualSelector: true` gets a selector on
// its own uid, and its pod template the labels that match it, so Job manifests (which almost
// never carry a selector) apply as they do on Kubernetes. A selector sent without
// manualSelector is kept as given (Kubernetes refuses it; accepting it is the lenient subset).

export const CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid";
export const JOB_NAME_LABEL = "batch.kubernetes.io/job-name";
/** The labels Kubernetes set before 1.27, still added beside the new ones. */
export const LEGACY_CONTROLLER_UID_LABEL = "controller-uid";
export const LEGACY_JOB_NAME_LABEL = "job-name";

/** True when the Job's selector is the server's to generate. */
export function needsGeneratedSelector(job: Job): boolean {
  return job.spec?.manualSelector !== true && job.spec?.selector === undefined;
}

function addTemplateLabels(job: Job, uid: string): void {
  const spec = (job.spec ??= create(JobSpecSchema, {}));
  const template = (spec.template ??= create(PodTemplateSpecSchema, {}));
  const meta = (template.metadata ??= create(ObjectMetaSchema, {}));
  const name = job.metadata?.name ?? "";
  meta.labels[CONTROLLER_UID_LABEL] = uid;
  meta.labels[LEGACY_CONTROLLER_UID_LABEL] = uid;
  meta.labels[JOB_NAME_LABEL] = name;
  meta.labels[LEGACY_JOB_NAME_LABEL] = name;
}

/** On create: the selector `batch.kubernetes.io/controller-uid=<uid>` and the template labels. */
export function generateJobSelector(job: Job, uid: string): void {
  if (!needsGeneratedSelector(job)) return;
  addTemplateLabels(job, uid);
  job.spec!.selector = create(LabelSelectorSchema, { matchLabels: { [CONTROLLER_UID_LABEL]: uid } });
}

/**
 * On update: a Job whose selector was generated keeps it when the update leaves it out (as a
 * manifest applied again does), and its template keeps the matching labels.
 */
export function keepGeneratedSelector(current: Job, incoming: Job): void {
  const uid = current.metadata?.uid ?? "";
  const sel = current.spec?.selector;
  if (!uid || !sel || sel.matchLabels[CONTROLLER_UID_LABEL] !== uid || !needsGeneratedSelector(incoming)) return;
  addTemplateLabels(incoming, uid);
  incoming.spec!.selector = create(LabelSelectorSchema, { matchLabels: { [CONTROLLER_UID_LABEL]: uid } });
}
