package dev.ringlock.core.memory;

import static dev.ringlock.core.memory.RegionDescriptor.CAPACITY_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.DATA_CURSOR_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.DATA_START_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.DIRECTORY_LOCK_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.DIRECTORY_OFFSET_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.ENTRY_BYTES;
import static dev.ringlock.core.memory.RegionDescriptor.ENTRY_BYTES_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.ENTRY_COUNT_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.HEADER_BYTES;
import static dev.ringlock.core.memory.RegionDescriptor.HEADER_BYTES_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.INDEX_OFFSET_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.INDEX_SLOT_BYTES;
import static dev.ringlock.core.memory.RegionDescriptor.LAYOUT_VERSION;
import static dev.ringlock.core.memory.RegionDescriptor.LAYOUT_VERSION_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.LINE_BYTES;
import static dev.ringlock.core.memory.RegionDescriptor.MAGIC;
import static dev.ringlock.core.memory.RegionDescriptor.MAGIC_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.PID_NAMESPACE_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.REGION_BYTES_OFFSET;

import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.InvalidRegionException.Problem;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/*
 * Overview
 *
 * Writes the header of a new region, and reads and checks the header of an existing file before
 * anything is mapped. The checks run in a fixed order, each assuming the ones before it passed:
 * length of the file, magic, version, recorded size against the file's real size, then the
 * directory's and data area's bounds. Only after they all pass is it safe to map the recorded
 * size: a mapping beyond the end of the file faults on access, and compareAndSet on such a page
 * kills the JVM with SIGBUS rather than throwing.
 *
 * The header is read with FileChannel.read, never mapped, and the file is opened without CREATE
 * or TRUNCATE, so a rejected file is left byte for byte (and mtime) as it was.
 *
 * The words of header line 1 (lock, count, cursor) change under concurrent inserts, so they are
 * not checked here but through the mapping, with the acquire reads the runtime uses
 * (Directory.checkPublished).
 */
final class RegionHeader {
  private RegionHeader() {}

  /** A header that passed every check, with the geometry it records. */
  record Validated(RegionGeometry geometry, int layoutVersion) {}

  /** The complete header (both lines) of a new, empty region, little-endian. */
  static ByteBuffer image(RegionGeometry geometry) {
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    header.putLong((int) MAGIC_OFFSET, MAGIC);
    header.putInt((int) LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
    header.putInt((int) HEADER_BYTES_OFFSET, HEADER_BYTES);
    header.putLong((int) REGION_BYTES_OFFSET, geometry.regionBytes());
    header.putLong((int) DIRECTORY_OFFSET_OFFSET, geometry.directoryOffset());
    header.putInt((int) CAPACITY_OFFSET, geometry.capacity());
    header.putInt((int) ENTRY_BYTES_OFFSET, ENTRY_BYTES);
    header.putLong((int) DATA_START_OFFSET, geometry.dataStart());
    header.putLong((int) PID_NAMESPACE_OFFSET, pidNamespaceOfThisProcess());
    header.putLong((int) INDEX_OFFSET_OFFSET, geometry.indexOffset());
    header.putInt((int) DIRECTORY_LOCK_OFFSET, 0);
    header.putInt((int) ENTRY_COUNT_OFFSET, 0);
    header.putLong((int) DATA_CURSOR_OFFSET, geometry.dataStart());
    return header;
  }

  /**
   * Reads the header of {@code file} through {@code channel} and checks it.
   *
   * @throws InvalidRegionException if the header is not one this version can map
   */
  static Validated read(Path file, FileChannel channel) throws IOException {
    long fileBytes = channel.size();
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    while (header.hasRemaining() && channel.read(header, header.position()) >= 0) {
      // a file read returns fewer bytes than asked only at its end
    }
    int present = header.position();
    if (present < HEADER_BYTES) {
      throw shortFile(file, header, present);
    }

    long magic = header.getLong((int) MAGIC_OFFSET);
    if (magic != MAGIC) {
      throw new InvalidRegionException(
          file,
          Problem.NOT_A_REGION,
          "is not a ringlock region (magic 0x%016x; expected 0x%016x)".formatted(magic, MAGIC));
    }
    int version = header.getInt((int) LAYOUT_VERSION_OFFSET);
    if (Integer.compareUnsigned(version, LAYOUT_VERSION) > 0) {
      throw new InvalidRegionException(
          file,
          Problem.UNSUPPORTED_VERSION,
          "was written by a newer ringlock (layout version "
              + Integer.toUnsignedString(version)
              + "; this one reads up to "
              + LAYOUT_VERSION
              + ")");
    }
    if (version == 0) {
      throw corrupt(file, "has layout version 0, which no ringlock writes");
    }
    if (version < LAYOUT_VERSION) {
      // Version 1 has no name index, and its undo semaphores kept no total to recompute their
      // count from; version 2's wait queues have no wake sequence, and its processes sleep on
      // their slots, where no version 3 waker wakes them; version 3's mutexes keep no starving
      // summary, so their starving marks would not stop a version 4 arrival from barging, and
      // version 3 processes count a read-write mutex record's STARVING bit as read holds;
      // version 4's objects have no stats line after them, so version 5 counters would land on
      // the next object's bytes; version 5's mutexes have their starving summary where version 6
      // keeps the hold tag its releases CAS with the word, and version 5 processes count a
      // read-write mutex record's CLOSED bit as read holds; version 6 processes claim read-write
      // mutex records without raising the bound version 7 writers scan up to, so a writer would
      // not see their holds. Nothing is converted in place: no file is modified on a failed open.
      throw new InvalidRegionException(
          file,
          Problem.UNSUPPORTED_VERSION,
          "was written by an older ringlock (layout version "
              + version
              + switch (version) {
                case 1 ->
                    ", without the name index, the undo-semaphore totals, the wait-queue wake"
                        + " sequences, the starving marks, the objects' counters, the mutexes'"
                        + " hold tags and the read-write mutexes' record bounds";
                case 2 ->
                    ", without the wait-queue wake sequences, the starving marks, the objects'"
                        + " counters, the mutexes' hold tags and the read-write mutexes' record"
                        + " bounds";
                case 3 ->
                    ", without the mutexes' starving summaries, the read-write mutexes' starving"
                        + " marks, the objects' counters, the mutexes' hold tags and the read-write"
                        + " mutexes' per-view reader records and record bounds";
                case 4 ->
                    ", without the objects' counters (a stats line after every object, which"
                        + " inspect reads), the mutexes' hold tags and the read-write mutexes'"
                        + " per-view reader records and record bounds";
                case 5 ->
                    ", without the mutexes' hold tags (beside each mutex word, where version 5"
                        + " keeps its starving summary; a release moves the tag with the word in one"
                        + " atomic step) and the read-write mutexes' per-view reader records (a"
                        + " closed view's record carries a bit that version 5 counts as read holds)"
                        + " and record bounds";
                default ->
                    ", without the read-write mutexes' record bounds (a writer looks only at the"
                        + " reader records below the bound, which a version 6 process does not"
                        + " raise when it claims a record)";
              }
              + " of version "
              + LAYOUT_VERSION
              + "; this one reads only version "
              + LAYOUT_VERSION
              + "). Stop every process that uses it, delete it, and ringlock creates it again"
              + " in the new layout (its locks start free); or run the older ringlock everywhere");
    }
    int headerBytes = header.getInt((int) HEADER_BYTES_OFFSET);
    if (headerBytes != HEADER_BYTES) {
      throw corrupt(
          file,
          "records a header of "
              + Integer.toUnsignedString(headerBytes)
              + " bytes; layout version "
              + version
              + " has "
              + HEADER_BYTES);
    }

    long regionBytes = header.getLong((int) REGION_BYTES_OFFSET);
    if (regionBytes < 0 || regionBytes > RegionDescriptor.MAX_REGION_BYTES) {
      throw corrupt(
          file,
          "records a region of "
              + Long.toUnsignedString(regionBytes)
              + " bytes, above the maximum of "
              + RegionDescriptor.MAX_REGION_BYTES);
    }
    if (regionBytes > fileBytes) {
      throw new InvalidRegionException(
          file,
          Problem.TRUNCATED,
          "is truncated (" + fileBytes + " bytes; its header records " + regionBytes + ")");
    }
    long minimum = RegionDescriptor.minimumRegionBytes(RegionDescriptor.MIN_CAPACITY);
    if (regionBytes < minimum || !RegionDescriptor.isLineAligned(regionBytes)) {
      throw corrupt(
          file,
          "records a region of "
              + regionBytes
              + " bytes (it must be a multiple of "
              + LINE_BYTES
              + " and at least "
              + minimum
              + ")");
    }
    RegionGeometry geometry = directoryGeometry(file, header, regionBytes);
    checkPidNamespace(file, header.getLong((int) PID_NAMESPACE_OFFSET));
    return new Validated(geometry, version);
  }

  /** A region made in another PID namespace would have its live owners taken for dead. */
  private static void checkPidNamespace(Path file, long recorded) throws InvalidRegionException {
    long ours = pidNamespaceOfThisProcess();
    if (recorded != 0 && ours != 0 && recorded != ours) {
      throw new InvalidRegionException(
          file,
          Problem.OTHER_PID_NAMESPACE,
          "was created in PID namespace pid:[%s], and this process runs in pid:[%s]"
              .formatted(Long.toUnsignedString(recorded), Long.toUnsignedString(ours)));
    }
  }

  /** The inode of this process's PID namespace, as /proc/self/ns/pid names it; 0 if unknown. */
  static long pidNamespaceOfThisProcess() {
    try {
      String link = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
      return Long.parseUnsignedLong(link.substring(link.indexOf('[') + 1, link.indexOf(']')));
    } catch (IOException | RuntimeException e) {
      return 0; // no /proc: the check cannot be made, as for a region that recorded none
    }
  }

  private static RegionGeometry directoryGeometry(Path file, ByteBuffer header, long regionBytes)
      throws InvalidRegionException {
    int entryBytes = header.getInt((int) ENTRY_BYTES_OFFSET);
    if (entryBytes != ENTRY_BYTES) {
      throw corrupt(
          file,
          "records directory entries of "
              + Integer.toUnsignedString(entryBytes)
              + " bytes; this layout's entries are "
              + ENTRY_BYTES);
    }
    int capacity = header.getInt((int) CAPACITY_OFFSET);
    if (capacity < RegionDescriptor.MIN_CAPACITY || capacity > RegionDescriptor.MAX_CAPACITY) {
      throw corrupt(
          file,
          "records a directory capacity of "
              + Integer.toUnsignedString(capacity)
              + " (it must be "
              + RegionDescriptor.MIN_CAPACITY
              + ".."
              + RegionDescriptor.MAX_CAPACITY
              + ")");
    }
    long directoryOffset = header.getLong((int) DIRECTORY_OFFSET_OFFSET);
    long dataStart = header.getLong((int) DATA_START_OFFSET);
    // regionBytes is at most 1 GiB and the directory at most 8 MiB, so none of this overflows
    // once directoryOffset is known to lie inside the region.
    boolean inside = directoryOffset >= HEADER_BYTES && directoryOffset <= regionBytes;
    long directoryEnd = directoryOffset + (long) capacity * ENTRY_BYTES;
    if (!inside || directoryEnd > regionBytes || directoryEnd > dataStart) {
      throw new InvalidRegionException(
          file,
          Problem.DIRECTORY_OUT_OF_BOUNDS,
          ("has its directory out of bounds (%d entries of %d bytes at offset %s; the header"
                  + " ends at %d, the data area starts at %s and the region ends at %d)")
              .formatted(
                  capacity,
                  ENTRY_BYTES,
                  Long.toUnsignedString(directoryOffset),
                  HEADER_BYTES,
                  Long.toUnsignedString(dataStart),
                  regionBytes));
    }
    if (!RegionDescriptor.isLineAligned(directoryOffset)
        || !RegionDescriptor.isLineAligned(dataStart)
        || dataStart > regionBytes - LINE_BYTES) {
      throw corrupt(
          file,
          ("records a directory at offset %d and a data area at offset %d in a region of %d"
                  + " bytes (both must start on a 64-byte line, with at least one line of data)")
              .formatted(directoryOffset, dataStart, regionBytes));
    }
    long indexOffset = header.getLong((int) INDEX_OFFSET_OFFSET);
    long indexBytes = (long) RegionDescriptor.indexSlots(capacity) * INDEX_SLOT_BYTES;
    // directoryEnd <= dataStart <= regionBytes - 64 here, so the sum cannot overflow once
    // indexOffset is known to lie between them.
    if (!RegionDescriptor.isLineAligned(indexOffset)
        || indexOffset < directoryEnd
        || indexOffset > dataStart
        || indexBytes > dataStart - indexOffset) {
      throw new InvalidRegionException(
          file,
          Problem.DIRECTORY_OUT_OF_BOUNDS,
          ("has its name index out of bounds (%d slots of %d bytes at offset %s; it must start on"
                  + " a 64-byte line between the directory's end at %d and the data area at %d)")
              .formatted(
                  indexBytes / INDEX_SLOT_BYTES,
                  INDEX_SLOT_BYTES,
                  Long.toUnsignedString(indexOffset),
                  directoryEnd,
                  dataStart));
    }
    return new RegionGeometry(regionBytes, directoryOffset, capacity, indexOffset, dataStart);
  }

  /** A file shorter than the header: a cut-short region if what is there begins the magic. */
  private static InvalidRegionException shortFile(Path file, ByteBuffer header, int present) {
    if (present == 0) {
      return new InvalidRegionException(
          file, Problem.NOT_A_REGION, "is not a ringlock region (the file is empty)");
    }
    boolean beginsWithMagic = true;
    for (int i = 0; i < Math.min(present, Long.BYTES); i++) {
      beginsWithMagic &= header.get((int) MAGIC_OFFSET + i) == (byte) (MAGIC >>> (8 * i));
    }
    if (beginsWithMagic) {
      return new InvalidRegionException(
          file,
          Problem.TRUNCATED,
          "is truncated (" + present + " bytes, less than the " + HEADER_BYTES + "-byte header)");
    }
    return new InvalidRegionException(
        file,
        Problem.NOT_A_REGION,
        "is not a ringlock region ("
            + present
            + " bytes, less than a ringlock header, and not starting with its magic)");
  }

  private static InvalidRegionException corrupt(Path file, String finding) {
    return new InvalidRegionException(file, Problem.CORRUPT, finding);
  }
}
