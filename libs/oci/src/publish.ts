import { corralImages, type NamedImage } from "./busybox.js";
import { RegistryClient } from "./registry.js";

export interface PublishResult {
  /** registry/repository:tag */
  ref: string;
  digest: string;
  /** false when the registry already had this exact manifest under the tag. */
  pushed: boolean;
}

/**
 * Makes the registry hold each image under each of its tags, pushing only what differs: a second
 * run against the same registry costs the image build and one HEAD per tag.
 */
export async function publishImages(registry: string, images: readonly NamedImage[]): Promise<PublishResult[]> {
  const client = new RegistryClient({ registry });
  const results: PublishResult[] = [];
  for (const { repository, tags, image } of images) {
    const { pushedTags } = await client.pushImage(repository, tags, image);
    for (const tag of tags) {
      results.push({ ref: `${registry}/${repository}:${tag}`, digest: image.manifest.digest, pushed: pushedTags.includes(tag) });
    }
  }
  return results;
}

/** Builds Corral's images (pause and busybox, from the host's busybox-static) and publishes them to the registry. */
export async function publishCorralImages(registry: string): Promise<PublishResult[]> {
  return publishImages(registry, await corralImages());
}
