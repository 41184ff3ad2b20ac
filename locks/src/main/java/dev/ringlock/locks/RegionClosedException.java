package dev.ringlock.locks;

/** The {@link SharedRegion} was closed: its memory is unmapped and its locks are unusable here. */
public final class RegionClosedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public RegionClosedException(String message) {
    super(message);
  }

  /**
   * @param cause why the region closed when it closed itself, e.g. the {@link
   *     dev.ringlock.core.InvalidRegionException} of a region file that was deleted or replaced
   */
  public RegionClosedException(String message, Throwable cause) {
    super(message, cause);
  }
}
