package dev.ringlock.core.memory;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.StructLayout;

/*
 * Overview
 *
 * The layout of a region, defined once: every offset used elsewhere is derived from the two
 * StructLayouts below, never typed in twice. RegionDescriptorTest holds them against the table.
 *
 *   offset                    bytes            contents
 *   0                         64               header line 0: constant after creation
 *   64                        64               header line 1: the words inserters write
 *   directory_offset (128)    capacity * 128   directory: one entry per named object
 *   index_offset              slots * 4        name index: entry index + 1 per slot, 0 = empty
 *   data_start                region - start   data: objects, each starting on a 64-byte line
 *
 * The name index (layout version 2) makes a lookup a hash probe rather than a scan of every
 * entry: an open-addressing table of indexSlots(capacity) slots (the power of two at or above
 * twice the capacity, so it is at most half full), probed linearly from nameHash(name) & (slots -
 * 1). Directory's overview gives its protocol. index_offset is the line after the directory, and
 * data_start the line after the index.
 *
 * Header line 0 is written once, before the file is published under its name, and never again,
 * so readers may cache it. Line 1 holds the directory lock, the published entry count and the
 * data cursor; on their own line, inserts do not invalidate the line every attach and lookup
 * reads first. Objects start on 64-byte lines so no two objects (no two locks) share a line.
 *
 * Every field is little-endian, the native order of x86_64 and aarch64, so the mapping is read
 * and written with the native-order JAVA_INT and JAVA_LONG layouts (and their atomics).
 */
/**
 * Offsets, sizes and limits of a region's header, directory and data area, computed in one place.
 */
public final class RegionDescriptor {
  /** The unit of alignment: header lines, the directory and every object start on one. */
  public static final int LINE_BYTES = 64;

  /** "RINGLOCK" in ASCII, read as a little-endian u64: a file starting otherwise is not ours. */
  public static final long MAGIC = 0x4B43_4F4C_474E_4952L;

  /**
   * The layout this code writes and the only one it reads. Versions start at 1; 0 is corrupt.
   * Version 2 added the name index and gave undo semaphores their total and repair words (see the
   * locks module's SemaphoreDescriptor). Version 3 gave wait queues (and condition variables) a
   * wake sequence that each process sleeps on, instead of a kernel wait per waiter on its slot (the
   * locks module's WaitQueueDescriptor): a version 2 process would sleep where no version 3 waker
   * wakes. Version 4 gave the mutex a starving summary beside its word (the locks module's
   * MutexDescriptor), which a version 3 process would not keep: its starving marks would not stop a
   * version 4 process from barging; and it gave the read-write mutex's reader records a STARVING
   * bit (bit 30, taken from the count: ReadWriteMutexDescriptor), which a version 3 process would
   * count as 2^30 read holds and wait for. Version 5 gave every object a stats line after its own
   * bytes (the locks module's ObjectStatsDescriptor: acquisitions, contention, wait time,
   * takeovers), which a version 4 object has no room for: its counters would land on the next
   * object. Version 6 put the mutex's hold tag beside its word (offset 4, where the starving
   * summary was; the summary moved to 20: the locks module's MutexDescriptor), so that a release is
   * one 64-bit CAS of both: a version 5 process would read the tag as its starving summary and stop
   * barging for good, and would release without moving the tag, so a racing second unlock could
   * release twice. Version 6 also gave the read-write mutex one reader record per view instead of
   * one per process, with a CLOSED bit (bit 29, taken from the count: ReadWriteMutexDescriptor)
   * that a closing view sets: a version 5 process would count it as 2^29 read holds and wait for
   * them. Version 7 gave the read-write mutex a bound on its reader records (offset 4, reserved
   * before: ReadWriteMutexDescriptor), which a writer scans up to and a claim past it raises first:
   * a version 6 process would claim a record past it without raising it, and a version 7 writer
   * would not see that record's holds. Older files are refused.
   */
  public static final int LAYOUT_VERSION = 7;

  /** The longest name, in UTF-8 bytes: what a directory entry's name field holds. */
  public static final int MAX_NAME_BYTES = 96;

  public static final int MIN_CAPACITY = 1;
  public static final int MAX_CAPACITY = 65_536;

  /** The largest region, so a bad size cannot map (and reserve) most of the address space. */
  public static final long MAX_REGION_BYTES = 1L << 30;

  public static final StructLayout HEADER =
      structLayout(
          // line 0: constant after creation
          JAVA_LONG.withName("magic"),
          JAVA_INT.withName("layout_version"),
          JAVA_INT.withName("header_bytes"),
          JAVA_LONG.withName("region_bytes"),
          JAVA_LONG.withName("directory_offset"),
          JAVA_INT.withName("capacity"),
          JAVA_INT.withName("entry_bytes"),
          JAVA_LONG.withName("data_start"),
          // The creator's PID namespace (the inode of /proc/self/ns/pid), 0 if unknown: the
          // lock words record owners as pids, which mean the same process only within it.
          JAVA_LONG.withName("pid_namespace"),
          JAVA_LONG.withName("index_offset"), // the name index; since layout version 2
          // line 1: written by inserters under the directory lock
          JAVA_INT.withName("directory_lock"), // 0 = free, else owner pid | LOCK_WAITERS
          JAVA_INT.withName("entry_count"), // entries [0, count) are published; release-stored
          JAVA_LONG.withName("data_cursor"), // first free data byte; release-stored before count
          paddingLayout(48));

  public static final int HEADER_BYTES = (int) HEADER.byteSize();

  public static final long MAGIC_OFFSET = offset(HEADER, "magic");
  public static final long LAYOUT_VERSION_OFFSET = offset(HEADER, "layout_version");
  public static final long HEADER_BYTES_OFFSET = offset(HEADER, "header_bytes");
  public static final long REGION_BYTES_OFFSET = offset(HEADER, "region_bytes");
  public static final long DIRECTORY_OFFSET_OFFSET = offset(HEADER, "directory_offset");
  public static final long CAPACITY_OFFSET = offset(HEADER, "capacity");
  public static final long ENTRY_BYTES_OFFSET = offset(HEADER, "entry_bytes");
  public static final long DATA_START_OFFSET = offset(HEADER, "data_start");
  public static final long PID_NAMESPACE_OFFSET = offset(HEADER, "pid_namespace");
  public static final long INDEX_OFFSET_OFFSET = offset(HEADER, "index_offset");
  public static final long DIRECTORY_LOCK_OFFSET = offset(HEADER, "directory_lock");
  public static final long ENTRY_COUNT_OFFSET = offset(HEADER, "entry_count");
  public static final long DATA_CURSOR_OFFSET = offset(HEADER, "data_cursor");

  /** Set in the lock word while a process may sleep on it; the unlocker then wakes one. */
  public static final int LOCK_WAITERS = 1 << 30;

  /**
   * The pid field of every word that records a process (the directory and list locks here; a
   * mutex's word, its starving slots, a semaphore's holder entries and repairer in the locks
   * module): bits 0..29, so two flag bits stay free above it. Defined once, for every format.
   */
  public static final int PID_MASK = (1 << 30) - 1;

  /**
   * The largest pid Linux hands out: pids are below pid_max, which is at most 2^22 (the kernel's
   * PID_MAX_LIMIT on 64-bit), well inside {@link #PID_MASK}. A recorded pid above it is corruption.
   */
  public static final int MAX_PID = (1 << 22) - 1;

  public static final StructLayout ENTRY =
      structLayout(
          JAVA_INT.withName("type"), // never 0
          JAVA_INT.withName("name_bytes"), // 1..MAX_NAME_BYTES
          JAVA_LONG.withName("object_offset"), // from the region's start; 64-aligned
          JAVA_LONG.withName("object_bytes"), // as requested, before rounding to lines
          JAVA_LONG.withName("reserved"),
          sequenceLayout(MAX_NAME_BYTES, JAVA_BYTE).withName("name")); // UTF-8, not terminated

  public static final int ENTRY_BYTES = (int) ENTRY.byteSize();

  public static final long ENTRY_TYPE_OFFSET = offset(ENTRY, "type");
  public static final long ENTRY_NAME_BYTES_OFFSET = offset(ENTRY, "name_bytes");
  public static final long ENTRY_OBJECT_OFFSET_OFFSET = offset(ENTRY, "object_offset");
  public static final long ENTRY_OBJECT_BYTES_OFFSET = offset(ENTRY, "object_bytes");
  public static final long ENTRY_NAME_OFFSET = offset(ENTRY, "name");

  /** Where this version places the directory: right after the header. */
  public static final long DIRECTORY_OFFSET = HEADER_BYTES;

  private RegionDescriptor() {}

  /** A name index slot: 0 = empty, else the index of the entry it names + 1. */
  public static final int INDEX_SLOT_BYTES = Integer.BYTES;

  /** How many name index slots a directory of {@code capacity} entries has: a power of two. */
  public static int indexSlots(int capacity) {
    return Integer.highestOneBit(2 * capacity - 1) << 1; // the power of two >= 2 * capacity
  }

  /** Where this version places the name index: on the line after the directory. */
  public static long indexOffset(int capacity) {
    return roundUpToLine(DIRECTORY_OFFSET + (long) capacity * ENTRY_BYTES);
  }

  /** Where the data area starts in a region of this version with {@code capacity} entries. */
  public static long dataStart(int capacity) {
    return roundUpToLine(indexOffset(capacity) + (long) indexSlots(capacity) * INDEX_SLOT_BYTES);
  }

  /**
   * The hash a name's index probe starts from: FNV-1a over its UTF-8 bytes, then MurmurHash3's
   * finaliser so that names differing in their last bytes spread over the low bits the probe uses.
   * Part of the file format: every process must compute the same value.
   */
  public static int nameHash(byte[] utf8) {
    int hash = 0x811C9DC5;
    for (byte b : utf8) {
      hash = (hash ^ (b & 0xFF)) * 0x0100_0193;
    }
    hash ^= hash >>> 16;
    hash *= 0x85EB_CA6B;
    hash ^= hash >>> 13;
    hash *= 0xC2B2_AE35;
    return hash ^ (hash >>> 16);
  }

  /** The smallest region with {@code capacity} entries: header, directory and one data line. */
  public static long minimumRegionBytes(int capacity) {
    return dataStart(capacity) + LINE_BYTES;
  }

  /** {@code bytes} rounded up to whole 64-byte lines. */
  public static long roundUpToLine(long bytes) {
    return (bytes + LINE_BYTES - 1) & -LINE_BYTES;
  }

  /** True if {@code offset} starts a 64-byte line. */
  public static boolean isLineAligned(long offset) {
    return (offset & (LINE_BYTES - 1)) == 0;
  }

  private static long offset(StructLayout layout, String field) {
    return layout.byteOffset(groupElement(field));
  }
}
