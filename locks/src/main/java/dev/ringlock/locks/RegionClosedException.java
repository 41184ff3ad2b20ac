package dev.ringlock.locks;

/** The {@link SharedRegion} was closed: its memory is unmapped and its locks are unusable here. */
public final class RegionClosedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public RegionClosedException(String message) {
    super(message);
  }
}
