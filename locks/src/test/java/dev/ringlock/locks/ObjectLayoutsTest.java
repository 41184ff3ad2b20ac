package dev.ringlock.locks;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.PathElement.sequenceElement;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ringlock.core.memory.RegionDescriptor;
import dev.ringlock.locks.internal.HolderTable;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.MutexWords;
import dev.ringlock.locks.internal.ObjectStatsDescriptor;
import dev.ringlock.locks.internal.ReadWriteMutexDescriptor;
import dev.ringlock.locks.internal.ReadWriteMutexWords;
import dev.ringlock.locks.internal.SemaphoreDescriptor;
import dev.ringlock.locks.internal.SemaphoreWords;
import dev.ringlock.locks.internal.WaitQueueDescriptor;
import dev.ringlock.locks.internal.WaitQueueWords;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The objects' layouts, pinned to the numbers docs/region-format.md documents: each descriptor
 * derives its offsets from a StructLayout, and an edit of that layout that moves a field changes
 * the region format, which needs a new layout version. This test fails first.
 */
class ObjectLayoutsTest {

  @Test
  void mutexFieldsSitWhereTheRegionFormatDocumentsThem() {
    assertEquals(64, MutexDescriptor.SIZE, "one cache line");
    assertEquals(0, MutexDescriptor.WORD_OFFSET);
    assertEquals(4, MutexDescriptor.HOLD_TAG_OFFSET, "one aligned long with the word, version 6");
    assertEquals(20, MutexDescriptor.STARVING_SUMMARY_OFFSET, "after the sleepers, version 6");
    assertEquals(8, MutexDescriptor.FENCE_OFFSET);
    assertEquals(16, MutexDescriptor.SLEEPERS_OFFSET);
    assertEquals(32, MutexDescriptor.STARVING_OFFSET);
    assertEquals(8, MutexDescriptor.STARVING_SLOTS);
    assertEquals(
        32 + 4 * 7,
        MutexDescriptor.LAYOUT.byteOffset(groupElement("starving"), sequenceElement(7)),
        "the last starving slot ends the line");
  }

  @Test
  void statsLineFieldsSitWhereTheRegionFormatDocumentsThem() {
    assertEquals(64, ObjectStatsDescriptor.SIZE, "one cache line of its own");
    assertEquals(0, ObjectStatsDescriptor.ACQUISITIONS_OFFSET);
    assertEquals(8, ObjectStatsDescriptor.CONTENDED_OFFSET);
    assertEquals(16, ObjectStatsDescriptor.WAIT_NANOS_OFFSET);
    assertEquals(24, ObjectStatsDescriptor.TAKEOVERS_OFFSET);
    assertEquals(32, ObjectStatsDescriptor.RECOVERED_OFFSET);
    assertEquals(40, ObjectStatsDescriptor.RESCUED_OFFSET);
  }

  @Test
  void everyObjectIsItsOwnBytesThenItsStatsLine() {
    assertEquals(128, ObjectStatsDescriptor.withStats(MutexDescriptor.SIZE), "mutex: line 1");
    assertEquals(64, ObjectStatsDescriptor.statsOffset(MutexDescriptor.SIZE));
    assertEquals(640, ObjectStatsDescriptor.withStats(SemaphoreDescriptor.SIZE), "semaphore");
    assertEquals(576, ObjectStatsDescriptor.statsOffset(SemaphoreDescriptor.SIZE));
    assertEquals(384, ObjectStatsDescriptor.withStats(ReadWriteMutexDescriptor.SIZE));
    assertEquals(320, ObjectStatsDescriptor.statsOffset(ReadWriteMutexDescriptor.SIZE));
    // a queue of 3 slots: 64 + 96 = 160 bytes, rounded up to 192, then the stats line
    assertEquals(192, ObjectStatsDescriptor.statsOffset(WaitQueueDescriptor.bytesFor(3)));
    assertEquals(256, WaitQueueDescriptor.objectBytesFor(3));
  }

  @Test
  void semaphoreFieldsSitWhereTheRegionFormatDocumentsThem() {
    assertEquals(576, SemaphoreDescriptor.SIZE, "nine cache lines");
    assertEquals(0, SemaphoreDescriptor.WORD_OFFSET);
    assertEquals(4, SemaphoreDescriptor.SLEEPERS_OFFSET);
    assertEquals(8, SemaphoreDescriptor.STARVING_OFFSET);
    assertEquals(12, SemaphoreDescriptor.FLAGS_OFFSET);
    assertEquals(16, SemaphoreDescriptor.TOTAL_OFFSET);
    assertEquals(20, SemaphoreDescriptor.REPAIRER_OFFSET);
    assertEquals(64, SemaphoreDescriptor.HOLDERS_OFFSET, "the holder table starts on line 1");
    assertEquals(64, SemaphoreDescriptor.HOLDER_SLOTS);
    assertEquals(8, SemaphoreDescriptor.HOLDER_BYTES);
    assertEquals(0, SemaphoreDescriptor.HOLDER_PID_OFFSET);
    assertEquals(4, SemaphoreDescriptor.HOLDER_HELD_OFFSET);
    for (int slot : new int[] {0, 1, 63}) {
      assertEquals(
          SemaphoreDescriptor.LAYOUT.byteOffset(groupElement("holders"), sequenceElement(slot)),
          SemaphoreDescriptor.holderOffset(slot),
          "holder entry " + slot);
    }
    assertEquals(64 + 8 * 63, SemaphoreDescriptor.holderOffset(63));
  }

  @Test
  void waitQueueFieldsSitWhereTheRegionFormatDocumentsThem() {
    assertEquals(64, WaitQueueDescriptor.HEADER_BYTES);
    assertEquals(0, WaitQueueDescriptor.LIST_LOCK_OFFSET);
    assertEquals(4, WaitQueueDescriptor.HEAD_OFFSET);
    assertEquals(8, WaitQueueDescriptor.TAIL_OFFSET);
    assertEquals(12, WaitQueueDescriptor.WAITING_OFFSET);
    assertEquals(16, WaitQueueDescriptor.CAPACITY_OFFSET);
    assertEquals(20, WaitQueueDescriptor.SLOT_BYTES_OFFSET);
    assertEquals(24, WaitQueueDescriptor.OCCUPIED_OFFSET);
    assertEquals(28, WaitQueueDescriptor.HINT_OFFSET);
    assertEquals(32, WaitQueueDescriptor.WAKE_SEQUENCE_OFFSET);
    assertEquals(36, WaitQueueDescriptor.SLEEPERS_OFFSET);
    assertEquals(40, WaitQueueDescriptor.REORDERS_OFFSET);
    assertEquals(32, WaitQueueDescriptor.SLOT_BYTES);
    assertEquals(0, WaitQueueDescriptor.STATE_OFFSET);
    assertEquals(4, WaitQueueDescriptor.OWNER_OFFSET);
    assertEquals(8, WaitQueueDescriptor.KEY_OFFSET);
    assertEquals(16, WaitQueueDescriptor.NEXT_OFFSET);
    assertEquals(20, WaitQueueDescriptor.PREV_OFFSET);
    assertEquals(64 + 32 * 3, WaitQueueDescriptor.slotOffset(3));
    assertEquals(64 + 32 * 8, WaitQueueDescriptor.bytesFor(8));
  }

  @Test
  void everyWordFormatSharesOnePidFieldBelowItsFlagBits() {
    assertEquals(0x3FFF_FFFF, RegionDescriptor.PID_MASK, "bits 0..29");
    assertEquals((1 << 22) - 1, RegionDescriptor.MAX_PID, "pid_max is at most 2^22");
    assertEquals(0, RegionDescriptor.PID_MASK & MutexDescriptor.WAITERS);
    assertEquals(0, RegionDescriptor.PID_MASK & MutexDescriptor.OWNER_DIED);
    assertEquals(0, RegionDescriptor.PID_MASK & RegionDescriptor.LOCK_WAITERS);
    assertEquals(0, RegionDescriptor.PID_MASK & SemaphoreDescriptor.HOLDER_BUSY);
  }

  @Test
  void eachFlyweightWritesItsFieldAtTheDocumentedByte() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment region = arena.allocate(4096, 64);
      MutexWords mutex = new MutexWords(region, 128);
      mutex.spWord(0x11);
      mutex.spFence(0x22);
      mutex.spStarvingPid(7, 0x33);
      mutex.spStarvingSummary(0x44);
      mutex.spHoldTag(0x55);
      assertEquals(0x11, region.get(ValueLayout.JAVA_INT, 128));
      assertEquals(0x55, region.get(ValueLayout.JAVA_INT, 128 + 4));
      assertEquals(0x44, region.get(ValueLayout.JAVA_INT, 128 + 20));
      // the release's one CAS reads the word and the tag as one long, the word at the lower address
      assertEquals(MutexWords.hold(0x11, 0x55), mutex.lvHold());
      assertEquals(0x11, MutexWords.wordOf(mutex.lvHold()));
      assertEquals(0x55, MutexWords.holdTagOf(mutex.lvHold()));
      assertEquals(0x22, region.get(ValueLayout.JAVA_LONG, 128 + 8));
      assertEquals(0x33, region.get(ValueLayout.JAVA_INT, 128 + 32 + 28));

      SemaphoreWords semaphore = new SemaphoreWords(region, 256);
      semaphore.spWord(5);
      semaphore.spFlags(1);
      semaphore.spTotal(9);
      semaphore.spHolder(63, HolderTable.entry(1234, 6));
      assertEquals(5, region.get(ValueLayout.JAVA_INT, 256));
      assertEquals(1, region.get(ValueLayout.JAVA_INT, 256 + 12));
      assertEquals(9, region.get(ValueLayout.JAVA_INT, 256 + 16));
      assertEquals(1234, region.get(ValueLayout.JAVA_INT, 256 + 64 + 8 * 63), "the pid first");
      assertEquals(6, region.get(ValueLayout.JAVA_INT, 256 + 64 + 8 * 63 + 4), "then held");

      WaitQueueWords queue = new WaitQueueWords(region, 1024, WaitQueueDescriptor.bytesFor(4));
      queue.spHead(2);
      queue.spState(3, WaitQueueDescriptor.WAITING);
      queue.spKey(3, 77L);
      queue.spPrev(3, 1);
      assertEquals(2, region.get(ValueLayout.JAVA_INT, 1024 + 4));
      assertEquals(1, region.get(ValueLayout.JAVA_INT, 1024 + 64 + 32 * 3));
      assertEquals(77L, region.get(ValueLayout.JAVA_LONG, 1024 + 64 + 32 * 3 + 8));
      assertEquals(1, region.get(ValueLayout.JAVA_INT, 1024 + 64 + 32 * 3 + 20));
    }
  }

  @Test
  void aFlyweightNeverReachesPastItsObject() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment region = arena.allocate(1024, 64);
      assertThrows(IndexOutOfBoundsException.class, () -> new MutexWords(region, 1024 - 32));
      assertThrows(IndexOutOfBoundsException.class, () -> new SemaphoreWords(region, 512));
      WaitQueueWords queue = new WaitQueueWords(region, 0, WaitQueueDescriptor.bytesFor(2));
      // slot 2 of a two-slot queue lies outside its object, though inside the region
      assertThrows(IndexOutOfBoundsException.class, () -> queue.laState(2));
      MutexWords mutex = new MutexWords(region, 0);
      assertThrows(IndexOutOfBoundsException.class, () -> mutex.lvStarvingPid(8));
    }
  }

  @Test
  void readWriteMutexFieldsSitWhereTheRegionFormatDocumentsThem() {
    assertEquals(64 + 32 * 8, ReadWriteMutexDescriptor.SIZE, "a header line, 32 reader records");
    assertEquals(0, ReadWriteMutexDescriptor.WORD_OFFSET);
    assertEquals(4, ReadWriteMutexDescriptor.BOUND_OFFSET, "beside the word, version 7");
    assertEquals(8, ReadWriteMutexDescriptor.FENCE_OFFSET);
    assertEquals(16, ReadWriteMutexDescriptor.SLEEPERS_OFFSET);
    assertEquals(64, ReadWriteMutexDescriptor.READERS_OFFSET);
    assertEquals(0, ReadWriteMutexDescriptor.WRITER_MASK & ReadWriteMutexDescriptor.PENDING);
    assertEquals(
        (1 << 27) - 1, ReadWriteMutexDescriptor.WRITER_MASK, "bits 0..26 hold any pid (2^22)");
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment region = arena.allocate(4096, 64);
      ReadWriteMutexWords rw = new ReadWriteMutexWords(region, 512);
      rw.spWord(0x11);
      rw.spFence(0x22);
      rw.spRecord(
          31,
          ReadWriteMutexDescriptor.newRecord(1234)
              | ReadWriteMutexDescriptor.WAITING
              | ReadWriteMutexDescriptor.STARVING
              | ReadWriteMutexDescriptor.CLOSED
              | 6);
      assertEquals(0x11, region.get(ValueLayout.JAVA_INT, 512));
      assertEquals(0x22, region.get(ValueLayout.JAVA_LONG, 512 + 8));
      long record = 512 + 64 + 8 * 31;
      assertEquals(
          0xE000_0006,
          region.get(ValueLayout.JAVA_INT, record),
          "count (bits 0..28), CLOSED (29), STARVING (30) and WAITING (31) low");
      assertEquals((1L << 29) - 1, ReadWriteMutexDescriptor.COUNT_MASK);
      assertEquals(1234, region.get(ValueLayout.JAVA_INT, record + 4), "the pid high");
      assertEquals(
          32, region.get(ValueLayout.JAVA_INT, 512 + 4), "a planted record raised the bound");
      assertThrows(IndexOutOfBoundsException.class, () -> rw.lvRecord(32));
      assertThrows(
          IndexOutOfBoundsException.class, () -> new ReadWriteMutexWords(region, 4096 - 64));
    }
  }
}
