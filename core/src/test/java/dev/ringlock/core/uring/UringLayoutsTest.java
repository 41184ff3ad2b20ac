package dev.ringlock.core.uring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.BitSet;
import org.junit.jupiter.api.Test;

/** Holds every layout against the numbers of include/uapi/linux/io_uring.h and futex.h. */
class UringLayoutsTest {
  @Test
  void sqeMatchesTheKernelAbi() {
    assertEquals(64, UringLayouts.SQE.byteSize());
    assertEquals(0, UringLayouts.SQE_OPCODE);
    assertEquals(1, UringLayouts.SQE_FLAGS);
    assertEquals(2, UringLayouts.SQE_IOPRIO);
    assertEquals(4, UringLayouts.SQE_FD);
    assertEquals(8, UringLayouts.SQE_OFF);
    assertEquals(16, UringLayouts.SQE_ADDR);
    assertEquals(24, UringLayouts.SQE_LEN);
    assertEquals(28, UringLayouts.SQE_OP_FLAGS);
    assertEquals(32, UringLayouts.SQE_USER_DATA);
    assertEquals(40, UringLayouts.SQE_BUF_INDEX);
    assertEquals(42, UringLayouts.SQE_PERSONALITY);
    assertEquals(44, UringLayouts.SQE_FILE_INDEX);
    assertEquals(48, UringLayouts.SQE_ADDR3);
    assertEquals(56, UringLayouts.SQE_PAD2);
    assertEquals(6, UringLayouts.SQE_SHIFT);
  }

  @Test
  void cqeAndFutexWaitvAndTimespecMatchTheKernelAbi() {
    assertEquals(16, UringLayouts.CQE.byteSize());
    assertEquals(0, UringLayouts.CQE_USER_DATA);
    assertEquals(8, UringLayouts.CQE_RES);
    assertEquals(4, UringLayouts.CQE_SHIFT);
    assertEquals(24, UringLayouts.FUTEX_WAITV.byteSize());
    assertEquals(0, UringLayouts.WAITV_VAL);
    assertEquals(8, UringLayouts.WAITV_UADDR);
    assertEquals(16, UringLayouts.WAITV_FLAGS);
    assertEquals(20, UringLayouts.WAITV_RESERVED);
    assertEquals(16, UringLayouts.KERNEL_TIMESPEC.byteSize());
    assertEquals(8, UringLayouts.TIMESPEC_NSEC);
  }

  @Test
  void geteventsArgMatchesTheKernelAbi() {
    assertEquals(24, UringLayouts.GETEVENTS_ARG.byteSize());
    assertEquals(16, UringLayouts.GETEVENTS_ARG_TS);
    assertEquals(1 << 3, IoUringAbi.ENTER_EXT_ARG);
  }

  @Test
  void paramsAndRingOffsetsMatchTheKernelAbi() {
    assertEquals(120, UringLayouts.PARAMS.byteSize());
    assertEquals(0, UringLayouts.PARAMS_SQ_ENTRIES);
    assertEquals(4, UringLayouts.PARAMS_CQ_ENTRIES);
    assertEquals(8, UringLayouts.PARAMS_FLAGS);
    assertEquals(20, UringLayouts.PARAMS_FEATURES);
    assertEquals(40, UringLayouts.PARAMS_SQ_OFF);
    assertEquals(80, UringLayouts.PARAMS_CQ_OFF);
    assertEquals(40, UringLayouts.SQRING_OFFSETS.byteSize());
    assertEquals(24, UringLayouts.SQ_OFF_ARRAY);
    assertEquals(16, UringLayouts.SQ_OFF_FLAGS);
    assertEquals(20, UringLayouts.CQ_OFF_CQES);
    assertEquals(16, UringLayouts.PROBE.byteSize());
    assertEquals(8, UringLayouts.PROBE_OP.byteSize());
    assertEquals(2, UringLayouts.PROBE_OP_FLAGS);
  }

  @Test
  void opcodesMatchTheKernelAbi() {
    assertEquals(51, IoUringAbi.OP_FUTEX_WAIT);
    assertEquals(52, IoUringAbi.OP_FUTEX_WAKE);
    assertEquals(53, IoUringAbi.OP_FUTEX_WAITV);
    assertEquals(15, IoUringAbi.OP_LINK_TIMEOUT);
    assertEquals(14, IoUringAbi.OP_ASYNC_CANCEL);
    assertEquals(6, IoUringAbi.OP_POLL_ADD);
    assertEquals(0, IoUringAbi.OP_NOP);
  }

  @Test
  void prepWritesTheFutexFieldsWhereTheKernelReadsThem() {
    MemorySegment sqes = Arena.ofAuto().allocate(128);
    sqes.fill((byte) 0x5A); // a reused slot: the filler must overwrite every field
    Prep.futexWait(sqes, 64, 0x1000L, -1, 0xF0F0_F0F0, 0x82);
    assertEquals(51, sqes.get(ValueLayout.JAVA_BYTE, 64));
    assertEquals(0, sqes.get(ValueLayout.JAVA_BYTE, 65));
    assertEquals(0x82, sqes.get(ValueLayout.JAVA_INT, 64 + 4), "futex2 flags travel in fd");
    assertEquals(
        0xFFFF_FFFFL, sqes.get(ValueLayout.JAVA_LONG, 64 + 8), "the value, unsigned, in off");
    assertEquals(0x1000L, sqes.get(ValueLayout.JAVA_LONG, 64 + 16));
    assertEquals(0, sqes.get(ValueLayout.JAVA_INT, 64 + 24), "len must be 0");
    assertEquals(0, sqes.get(ValueLayout.JAVA_INT, 64 + 28), "futex_flags must be 0");
    assertEquals(
        0xF0F0_F0F0L, sqes.get(ValueLayout.JAVA_LONG, 64 + 48), "the bitset, unsigned, in addr3");
    assertEquals(
        0x5A5A_5A5A_5A5A_5A5AL, sqes.get(ValueLayout.JAVA_LONG, 0), "the neighbour is untouched");
  }

  @Test
  void aStampedSqeIsTheImageWithItsOwnAddress() {
    MemorySegment image = Arena.ofAuto().allocate(64);
    Prep.futexWake(image, 0, 0L, 1, -1, 0x02);
    Prep.skipSuccessCompletion(image, 0);
    Prep.userData(image, 0, 0x1234L);
    MemorySegment expected = Arena.ofAuto().allocate(64);
    Prep.futexWake(expected, 0, 0x2000L, 1, -1, 0x02);
    Prep.skipSuccessCompletion(expected, 0);
    Prep.userData(expected, 0, 0x1234L);

    MemorySegment sqes = Arena.ofAuto().allocate(192);
    sqes.fill((byte) 0x5A); // a reused slot: the stamp must overwrite every field
    Prep.stamp(image, sqes, 64, 0x2000L);
    assertEquals(-1, sqes.asSlice(64, 64).mismatch(expected), "the stamped SQE");
    assertEquals(0x5A5A_5A5A_5A5A_5A5AL, sqes.get(ValueLayout.JAVA_LONG, 0));
    assertEquals(0x5A5A_5A5A_5A5A_5A5AL, sqes.get(ValueLayout.JAVA_LONG, 128));
  }

  @Test
  void userDataRoundTripsKindGenerationAndIndex() {
    long userData = UserData.encode(4, 0xABCDEF, 0x7FFF_FFFE);
    assertEquals(4, UserData.kind(userData));
    assertEquals(0xABCDEF, UserData.generation(userData));
    assertEquals(0x7FFF_FFFE, UserData.index(userData));
    assertEquals(0, UserData.generation(UserData.encode(1, UserData.GENERATION_MASK + 1, 0)));
  }

  @Test
  void probeParsingIsBoundedByTheSegment() {
    MemorySegment probe = Arena.ofAuto().allocate(UringLayouts.PROBE.byteSize() + 8 * 4);
    probe.set(ValueLayout.JAVA_BYTE, UringLayouts.PROBE_OPS_LEN, (byte) 200); // claims 200 ops
    probe.set(ValueLayout.JAVA_SHORT, 16 + 8 * 2 + 2, (short) IoUringAbi.IO_URING_OP_SUPPORTED);
    BitSet supported = Ring.parseProbe(probe);
    assertTrue(supported.get(2));
    assertFalse(supported.get(1));
    assertEquals(1, supported.cardinality());
  }
}
