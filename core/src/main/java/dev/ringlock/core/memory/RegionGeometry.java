package dev.ringlock.core.memory;

import static dev.ringlock.core.memory.RegionDescriptor.ENTRY_BYTES;
import static dev.ringlock.core.memory.RegionDescriptor.INDEX_SLOT_BYTES;

/**
 * Where a region's parts lie: read from the constant header line once, at open, and trusted from
 * then on (nothing rewrites that line after creation).
 *
 * @param regionBytes the size of the whole region, a multiple of 64
 * @param directoryOffset where entry 0 starts
 * @param capacity how many entries the directory holds
 * @param indexOffset where the name index starts: after the directory, ending at or before the data
 *     area; {@link RegionDescriptor#indexSlots} slots
 * @param dataStart where the data area starts; the directory ends at or before it
 */
record RegionGeometry(
    long regionBytes, long directoryOffset, int capacity, long indexOffset, long dataStart) {

  /**
   * The geometry this version creates for the requested size and capacity.
   *
   * @throws IllegalArgumentException if the capacity is outside 1..65536, or the size (rounded up
   *     to 64 bytes) is below the minimum for that capacity or above 1 GiB
   */
  static RegionGeometry forCreation(long requestedBytes, int capacity) {
    if (capacity < RegionDescriptor.MIN_CAPACITY || capacity > RegionDescriptor.MAX_CAPACITY) {
      throw new IllegalArgumentException(
          "region capacity must be "
              + RegionDescriptor.MIN_CAPACITY
              + ".."
              + RegionDescriptor.MAX_CAPACITY
              + " objects, not "
              + capacity);
    }
    long minimum = RegionDescriptor.minimumRegionBytes(capacity);
    if (requestedBytes > RegionDescriptor.MAX_REGION_BYTES) {
      throw new IllegalArgumentException(
          "region size "
              + requestedBytes
              + " bytes is above the maximum of "
              + RegionDescriptor.MAX_REGION_BYTES
              + " bytes (1 GiB)");
    }
    long regionBytes = RegionDescriptor.roundUpToLine(requestedBytes);
    if (requestedBytes <= 0 || regionBytes < minimum) {
      throw new IllegalArgumentException(
          "region size "
              + requestedBytes
              + " bytes is below the minimum of "
              + minimum
              + " bytes for a capacity of "
              + capacity
              + " objects (header, directory and one 64-byte data line)");
    }
    return new RegionGeometry(
        regionBytes,
        RegionDescriptor.DIRECTORY_OFFSET,
        capacity,
        RegionDescriptor.indexOffset(capacity),
        RegionDescriptor.dataStart(capacity));
  }

  /** Where directory entry {@code index} starts; the caller has checked it against capacity. */
  long entryOffset(int index) {
    return directoryOffset + (long) index * ENTRY_BYTES;
  }

  /** How many slots the name index has: a power of two. */
  int indexSlots() {
    return RegionDescriptor.indexSlots(capacity);
  }

  /** Where name index slot {@code slot} is; the caller has masked it with indexSlots() - 1. */
  long indexSlotOffset(int slot) {
    return indexOffset + (long) slot * INDEX_SLOT_BYTES;
  }
}
