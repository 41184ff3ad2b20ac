package dev.ringlock.locks.internal;

/**
 * The already-completed future of an uncontended acquisition, apart from the hold it carries, so
 * that the hold needs no CompletableFuture state and no completing CAS (Guard's overview). Built
 * and completed (completeUnseen) before anyone else sees it.
 */
final class AcquiredFuture<T> extends UnreplaceableFuture<T> {
  private final String kind;

  /**
   * @param kind how the refusal of obtrude names it, e.g. {@code "a lock future"}
   */
  AcquiredFuture(String kind) {
    this.kind = kind;
  }

  @Override
  String kind() {
    return kind;
  }
}
