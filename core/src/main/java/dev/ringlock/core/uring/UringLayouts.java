package dev.ringlock.core.uring;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.StructLayout;

/*
 * Overview
 *
 * Every kernel struct that ringlock exchanges with io_uring is laid out here, once, as a
 * StructLayout named after the kernel's fields; every byte offset used elsewhere is derived
 * from these layouts, never typed in twice. UringLayoutsTest holds each offset and size
 * against the numbers of include/uapi/linux/io_uring.h and futex.h.
 *
 * Odd field mappings, documented once (as liburing's io_uring_prep_futex_* do):
 *   FUTEX_WAIT/WAKE: futex2 flags travel in fd, the expected value or wake count in off
 *   (addr2), the bitset in addr3, and len and op_flags (futex_flags) must be 0.
 *   FUTEX_WAITV: addr points at struct futex_waitv[len]; fd, off and addr3 must be 0.
 *   LINK_TIMEOUT: addr points at a struct __kernel_timespec, len is 1.
 *   ASYNC_CANCEL: addr carries the user_data of the request to cancel, op_flags cancel_flags.
 *   POLL_ADD: op_flags carries poll32_events.
 */
public final class UringLayouts {
  public static final StructLayout SQE =
      structLayout(
          JAVA_BYTE.withName("opcode"),
          JAVA_BYTE.withName("flags"),
          JAVA_SHORT.withName("ioprio"),
          JAVA_INT.withName("fd"),
          JAVA_LONG.withName("off"),
          JAVA_LONG.withName("addr"),
          JAVA_INT.withName("len"),
          JAVA_INT.withName("op_flags"),
          JAVA_LONG.withName("user_data"),
          JAVA_SHORT.withName("buf_index"),
          JAVA_SHORT.withName("personality"),
          JAVA_INT.withName("file_index"),
          JAVA_LONG.withName("addr3"),
          JAVA_LONG.withName("pad2"));

  public static final long SQE_OPCODE = offset(SQE, "opcode");
  public static final long SQE_FLAGS = offset(SQE, "flags");
  public static final long SQE_IOPRIO = offset(SQE, "ioprio");
  public static final long SQE_FD = offset(SQE, "fd");
  public static final long SQE_OFF = offset(SQE, "off");
  public static final long SQE_ADDR = offset(SQE, "addr");
  public static final long SQE_LEN = offset(SQE, "len");
  public static final long SQE_OP_FLAGS = offset(SQE, "op_flags");
  public static final long SQE_USER_DATA = offset(SQE, "user_data");
  public static final long SQE_BUF_INDEX = offset(SQE, "buf_index");
  public static final long SQE_PERSONALITY = offset(SQE, "personality");
  public static final long SQE_FILE_INDEX = offset(SQE, "file_index");
  public static final long SQE_ADDR3 = offset(SQE, "addr3");
  public static final long SQE_PAD2 = offset(SQE, "pad2");

  public static final StructLayout CQE =
      structLayout(
          JAVA_LONG.withName("user_data"), JAVA_INT.withName("res"), JAVA_INT.withName("flags"));

  public static final long CQE_USER_DATA = offset(CQE, "user_data");
  public static final long CQE_RES = offset(CQE, "res");

  /** log2 of the CQE size, for indexing the CQE array by shift. */
  public static final int CQE_SHIFT = Long.numberOfTrailingZeros(CQE.byteSize());

  /** log2 of the SQE size. */
  public static final int SQE_SHIFT = Long.numberOfTrailingZeros(SQE.byteSize());

  public static final StructLayout FUTEX_WAITV =
      structLayout(
          JAVA_LONG.withName("val"),
          JAVA_LONG.withName("uaddr"),
          JAVA_INT.withName("flags"),
          JAVA_INT.withName("reserved"));

  public static final long WAITV_VAL = offset(FUTEX_WAITV, "val");
  public static final long WAITV_UADDR = offset(FUTEX_WAITV, "uaddr");
  public static final long WAITV_FLAGS = offset(FUTEX_WAITV, "flags");
  public static final long WAITV_RESERVED = offset(FUTEX_WAITV, "reserved");

  public static final StructLayout KERNEL_TIMESPEC =
      structLayout(JAVA_LONG.withName("tv_sec"), JAVA_LONG.withName("tv_nsec"));

  public static final long TIMESPEC_SEC = offset(KERNEL_TIMESPEC, "tv_sec");
  public static final long TIMESPEC_NSEC = offset(KERNEL_TIMESPEC, "tv_nsec");

  /**
   * struct io_uring_getevents_arg, passed to io_uring_enter with IORING_ENTER_EXT_ARG (Linux 5.11):
   * {@code ts} points to a relative struct __kernel_timespec bounding the wait. {@code
   * min_wait_usec} was padding before Linux 6.12 and stays 0 here.
   */
  public static final StructLayout GETEVENTS_ARG =
      structLayout(
          JAVA_LONG.withName("sigmask"),
          JAVA_INT.withName("sigmask_sz"),
          JAVA_INT.withName("min_wait_usec"),
          JAVA_LONG.withName("ts"));

  public static final long GETEVENTS_ARG_TS = offset(GETEVENTS_ARG, "ts");

  public static final StructLayout SQRING_OFFSETS =
      structLayout(
          JAVA_INT.withName("head"),
          JAVA_INT.withName("tail"),
          JAVA_INT.withName("ring_mask"),
          JAVA_INT.withName("ring_entries"),
          JAVA_INT.withName("flags"),
          JAVA_INT.withName("dropped"),
          JAVA_INT.withName("array"),
          JAVA_INT.withName("resv1"),
          JAVA_LONG.withName("user_addr"));

  public static final StructLayout CQRING_OFFSETS =
      structLayout(
          JAVA_INT.withName("head"),
          JAVA_INT.withName("tail"),
          JAVA_INT.withName("ring_mask"),
          JAVA_INT.withName("ring_entries"),
          JAVA_INT.withName("overflow"),
          JAVA_INT.withName("cqes"),
          JAVA_INT.withName("flags"),
          JAVA_INT.withName("resv1"),
          JAVA_LONG.withName("user_addr"));

  public static final StructLayout PARAMS =
      structLayout(
          JAVA_INT.withName("sq_entries"),
          JAVA_INT.withName("cq_entries"),
          JAVA_INT.withName("flags"),
          JAVA_INT.withName("sq_thread_cpu"),
          JAVA_INT.withName("sq_thread_idle"),
          JAVA_INT.withName("features"),
          JAVA_INT.withName("wq_fd"),
          sequenceLayout(3, JAVA_INT).withName("resv"),
          SQRING_OFFSETS.withName("sq_off"),
          CQRING_OFFSETS.withName("cq_off"));

  public static final long PARAMS_SQ_ENTRIES = offset(PARAMS, "sq_entries");
  public static final long PARAMS_CQ_ENTRIES = offset(PARAMS, "cq_entries");
  public static final long PARAMS_FLAGS = offset(PARAMS, "flags");
  public static final long PARAMS_FEATURES = offset(PARAMS, "features");
  public static final long PARAMS_SQ_OFF = offset(PARAMS, "sq_off");
  public static final long PARAMS_CQ_OFF = offset(PARAMS, "cq_off");

  public static final long SQ_OFF_HEAD = offset(SQRING_OFFSETS, "head");
  public static final long SQ_OFF_TAIL = offset(SQRING_OFFSETS, "tail");
  public static final long SQ_OFF_RING_MASK = offset(SQRING_OFFSETS, "ring_mask");
  public static final long SQ_OFF_RING_ENTRIES = offset(SQRING_OFFSETS, "ring_entries");
  public static final long SQ_OFF_FLAGS = offset(SQRING_OFFSETS, "flags");
  public static final long SQ_OFF_ARRAY = offset(SQRING_OFFSETS, "array");

  public static final long CQ_OFF_HEAD = offset(CQRING_OFFSETS, "head");
  public static final long CQ_OFF_TAIL = offset(CQRING_OFFSETS, "tail");
  public static final long CQ_OFF_RING_MASK = offset(CQRING_OFFSETS, "ring_mask");
  public static final long CQ_OFF_RING_ENTRIES = offset(CQRING_OFFSETS, "ring_entries");
  public static final long CQ_OFF_CQES = offset(CQRING_OFFSETS, "cqes");

  /** struct io_uring_probe, followed by {@link #PROBE_OP}[ops_len]. */
  public static final StructLayout PROBE =
      structLayout(
          JAVA_BYTE.withName("last_op"),
          JAVA_BYTE.withName("ops_len"),
          JAVA_SHORT.withName("resv"),
          sequenceLayout(3, JAVA_INT).withName("resv2"));

  public static final StructLayout PROBE_OP =
      structLayout(
          JAVA_BYTE.withName("op"),
          JAVA_BYTE.withName("resv"),
          JAVA_SHORT.withName("flags"),
          paddingLayout(4));

  public static final long PROBE_LAST_OP = offset(PROBE, "last_op");
  public static final long PROBE_OPS_LEN = offset(PROBE, "ops_len");
  public static final long PROBE_OP_FLAGS = offset(PROBE_OP, "flags");

  private UringLayouts() {}

  private static long offset(StructLayout layout, String field) {
    return layout.byteOffset(groupElement(field));
  }
}
