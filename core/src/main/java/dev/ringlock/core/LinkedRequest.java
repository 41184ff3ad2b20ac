package dev.ringlock.core;

/**
 * A {@link LoopRequest} that is only a node: its link, for requests with nothing else to inherit.
 * The link's one-writer-at-a-time rule is LoopRequest's.
 */
abstract class LinkedRequest implements LoopRequest {
  private LoopRequest next;

  @Override
  public final LoopRequest next() {
    return next;
  }

  @Override
  public final void setNext(LoopRequest next) {
    this.next = next;
  }
}
