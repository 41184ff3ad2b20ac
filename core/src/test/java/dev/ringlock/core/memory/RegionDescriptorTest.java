package dev.ringlock.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Holds the region layout to the table in RegionDescriptor's overview. */
class RegionDescriptorTest {
  @Test
  void constantHeaderFillsLineZero() {
    assertEquals(0, RegionDescriptor.MAGIC_OFFSET);
    assertEquals(8, RegionDescriptor.LAYOUT_VERSION_OFFSET);
    assertEquals(12, RegionDescriptor.HEADER_BYTES_OFFSET);
    assertEquals(16, RegionDescriptor.REGION_BYTES_OFFSET);
    assertEquals(24, RegionDescriptor.DIRECTORY_OFFSET_OFFSET);
    assertEquals(32, RegionDescriptor.CAPACITY_OFFSET);
    assertEquals(36, RegionDescriptor.ENTRY_BYTES_OFFSET);
    assertEquals(40, RegionDescriptor.DATA_START_OFFSET);
  }

  @Test
  void wordsInsertersWriteHaveLineOneToThemselves() {
    assertEquals(64, RegionDescriptor.DIRECTORY_LOCK_OFFSET);
    assertEquals(68, RegionDescriptor.ENTRY_COUNT_OFFSET);
    assertEquals(72, RegionDescriptor.DATA_CURSOR_OFFSET);
    assertEquals(128, RegionDescriptor.HEADER_BYTES);
    assertEquals(128, RegionDescriptor.DIRECTORY_OFFSET);
  }

  @Test
  void entryHoldsA96ByteNameIn128Bytes() {
    assertEquals(0, RegionDescriptor.ENTRY_TYPE_OFFSET);
    assertEquals(4, RegionDescriptor.ENTRY_NAME_BYTES_OFFSET);
    assertEquals(8, RegionDescriptor.ENTRY_OBJECT_OFFSET_OFFSET);
    assertEquals(16, RegionDescriptor.ENTRY_OBJECT_BYTES_OFFSET);
    assertEquals(32, RegionDescriptor.ENTRY_NAME_OFFSET);
    assertEquals(96, RegionDescriptor.MAX_NAME_BYTES);
    assertEquals(128, RegionDescriptor.ENTRY_BYTES);
  }

  @Test
  void magicIsRinglockInAsciiReadLittleEndian() {
    byte[] ascii = "RINGLOCK".getBytes(StandardCharsets.US_ASCII);
    assertEquals(
        ByteBuffer.wrap(ascii).order(ByteOrder.LITTLE_ENDIAN).getLong(), RegionDescriptor.MAGIC);
  }

  @Test
  void theLastHeaderFieldOfLineZeroPlacesTheNameIndex() {
    assertEquals(48, RegionDescriptor.PID_NAMESPACE_OFFSET);
    assertEquals(56, RegionDescriptor.INDEX_OFFSET_OFFSET);
    assertEquals(7, RegionDescriptor.LAYOUT_VERSION);
  }

  @Test
  void theNameIndexHasAPowerOfTwoAtLeastTwiceTheCapacityInSlots() {
    assertEquals(2, RegionDescriptor.indexSlots(1));
    assertEquals(4, RegionDescriptor.indexSlots(2));
    assertEquals(8, RegionDescriptor.indexSlots(3));
    assertEquals(2048, RegionDescriptor.indexSlots(1024));
    assertEquals(4096, RegionDescriptor.indexSlots(1025));
    assertEquals(131_072, RegionDescriptor.indexSlots(RegionDescriptor.MAX_CAPACITY));
  }

  @Test
  void theNameHashIsFixedByTheFormat() {
    // Every process computes it: pinned, so a change is seen as the format change it is.
    assertEquals(0x0EF4_A5A3, RegionDescriptor.nameHash("m".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void indexFollowsTheDirectoryAndDataFollowsTheIndex() {
    assertEquals(128 + 128, RegionDescriptor.indexOffset(1));
    assertEquals(128 + 128 + 64, RegionDescriptor.dataStart(1)); // 2 slots, one line
    assertEquals(128 + 16 * 128, RegionDescriptor.indexOffset(16));
    assertEquals(128 + 16 * 128 + 128, RegionDescriptor.dataStart(16)); // 32 slots, two lines
    assertEquals(128 + 128 + 64 + 64, RegionDescriptor.minimumRegionBytes(1));
    assertEquals(0, RegionDescriptor.roundUpToLine(0));
    assertEquals(64, RegionDescriptor.roundUpToLine(1));
    assertEquals(128, RegionDescriptor.roundUpToLine(65));
  }
}
