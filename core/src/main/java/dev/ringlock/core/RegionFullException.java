package dev.ringlock.core;

/**
 * A region has no room for another named object: its directory has no free entry, or its data area
 * has too few bytes left. A region never grows (growing a shared mapping under other processes is
 * what crashes them), so the way out is a new region, created larger, under a new file name.
 */
public final class RegionFullException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  private RegionFullException(String message) {
    super(message);
  }

  /**
   * Every entry of the directory is in use.
   *
   * @param region the region's file, or a description of an in-memory region
   * @param name the name that could not be created
   * @param capacity how many names the directory holds
   * @return the exception, its message saying what to do
   */
  public static RegionFullException directoryFull(String region, String name, int capacity) {
    return new RegionFullException(
        "cannot create '"
            + name
            + "' in "
            + region
            + ": its directory is full (capacity "
            + capacity
            + " objects, all in use); create the region with a larger capacity (RegionOptions)"
            + " under a new file name");
  }

  /**
   * The data area has fewer free bytes than the object needs.
   *
   * @param needed the object's size rounded up to whole 64-byte lines
   * @param free the bytes left in the data area
   * @param regionBytes the size of the whole region
   * @param region the region's file, or a description of an in-memory region
   * @param name the name that could not be created
   * @return the exception, its message saying what to do
   */
  public static RegionFullException dataFull(
      String region, String name, long needed, long free, long regionBytes) {
    return new RegionFullException(
        "cannot create '"
            + name
            + "' in "
            + region
            + ": no data space left (it needs "
            + needed
            + " bytes, "
            + free
            + " of the region's "
            + regionBytes
            + " bytes are free); create the region with a larger size (RegionOptions) under a new"
            + " file name");
  }
}
