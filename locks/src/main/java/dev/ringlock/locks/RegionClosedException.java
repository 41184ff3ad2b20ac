package dev.ringlock.locks;

/** The {@link SharedRegion} was closed: its memory is unmapped and its locks are unusable here. */
public final class RegionClosedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /**
   * Says which region a call found closed.
   *
   * @param message which region, and which call found it closed
   */
  public RegionClosedException(String message) {
    super(message);
  }

  /**
   * A region that closed itself.
   *
   * @param message which region, and which call found it closed
   * @param cause why the region closed when it closed itself, e.g. the {@link
   *     dev.ringlock.core.InvalidRegionException} of a region file that was deleted or replaced
   */
  public RegionClosedException(String message, Throwable cause) {
    super(message, cause);
  }
}
