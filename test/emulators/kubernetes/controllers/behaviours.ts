/**
 * How a container built from an image behaves once "pulled", set per image by tests.
 * The default: ready at once, runs forever, logs nothing.
 */
export interface ImageBehaviour {
  /** Ready this long after the container starts (real milliseconds, not scaled). */
  readonly readyAfterMs?: number;
  /**
   * Never ready: its readiness probe keeps failing (an Unhealthy event worded for the
   * probe's handler). A container without a readiness probe is ready as soon as it runs,
   * so without one it never gets that far: it stays ContainerCreating.
   */
  readonly neverReady?: boolean;
  /** The process exits this long after it starts: a crash loop under restartPolicy Always. */
  readonly exitAfterMs?: number;
  /** The exit code when it exits; 1 unless given. */
  readonly exitCode?: number;
  /**
   * The reason its exit is reported with: `OOMKilled` (with exitCode 137) for a container
   * the kernel killed for memory; `Completed` or `Error`, by the exit code, when omitted.
   */
  readonly exitReason?: string;
  /**
   * What the running container uses, as the kubelet's summary API would report it (no
   * process runs here): CPU as a quantity ("250m") and working-set memory ("200Mi").
   * Read by the Container Insights feed; its requests, else 1m and 16Mi, when omitted.
   */
  readonly usage?: { readonly cpu?: string; readonly memory?: string };
  /**
   * How long the process takes to exit once told to stop (real milliseconds); the pod's
   * whole grace period, scaled like the controllers' durations, when omitted or longer.
   */
  readonly stopAfterMs?: number;
  /** What the container writes to stdout, served by the log endpoint. */
  readonly logs?: readonly string[];
}

/** A reference without its digest, then without its tag: the keys a behaviour may be set under. */
export function behaviourKeys(reference: string): string[] {
  const withoutDigest = reference.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const repository = colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest;
  return [...new Set([reference, withoutDigest, repository])];
}

/** Behaviours by image reference or repository. */
export class ImageBehaviours {
  private readonly byImage = new Map<string, ImageBehaviour>();

  constructor(private readonly fallback: ImageBehaviour = {}) {}

  /** Sets the behaviour of an exact reference, or of every tag and digest of a repository. */
  set(imageOrRepository: string, behaviour: ImageBehaviour): void {
    this.byImage.set(imageOrRepository, behaviour);
  }

  /** Forgets every behaviour set. */
  clear(): void {
    this.byImage.clear();
  }

  /** The behaviour for a container's image: the most specific key set wins. */
  of(reference: string): ImageBehaviour {
    for (const key of behaviourKeys(reference)) {
      const found = this.byImage.get(key);
      if (found) return found;
    }
    return this.fallback;
  }
}
