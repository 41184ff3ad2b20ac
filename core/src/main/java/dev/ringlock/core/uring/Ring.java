package dev.ringlock.core.uring;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.ErrnoException;
import dev.ringlock.core.ffi.Syscalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.BitSet;

/*
 * Overview
 *
 * The lifecycle of one io_uring instance: io_uring_setup, the two mmaps (the SQ and CQ rings
 * share one with IORING_FEAT_SINGLE_MMAP; the SQE array is the other), the opcode probe, and
 * close. Calls that fail throw ErrnoException carrying the call and errno; the public face
 * turns it into the exception a user sees.
 *
 * A ring created with IORING_SETUP_SINGLE_ISSUER belongs to the thread that created it: a
 * submission from any other thread fails -EEXIST. So the thread that will submit must be the
 * one that calls setup().
 */
public final class Ring {
  private final int fd;
  private final long ringAddress;
  private final long ringLength;
  private final long sqesAddress;
  private final long sqesLength;
  private final SubmissionQueue submissionQueue;
  private final CompletionQueue completionQueue;
  // a struct io_uring_getevents_arg and the relative timespec it points to, for waitBounded;
  // automatic, because a few bytes are not worth tying to the thread that closes the ring
  private final MemorySegment geteventsArg = Arena.ofAuto().allocate(UringLayouts.GETEVENTS_ARG);
  private final MemorySegment waitTimeout = Arena.ofAuto().allocate(UringLayouts.KERNEL_TIMESPEC);
  private boolean closed;

  private Ring(
      int fd,
      long ringAddress,
      long ringLength,
      long sqesAddress,
      long sqesLength,
      MemorySegment params) {
    this.fd = fd;
    this.ringAddress = ringAddress;
    this.ringLength = ringLength;
    this.sqesAddress = sqesAddress;
    this.sqesLength = sqesLength;
    MemorySegment ring = MemorySegment.ofAddress(ringAddress).reinterpret(ringLength);
    MemorySegment sqes = MemorySegment.ofAddress(sqesAddress).reinterpret(sqesLength);
    this.submissionQueue = new SubmissionQueue(ring, sqes, params);
    this.completionQueue = new CompletionQueue(ring, params);
    geteventsArg.set(JAVA_LONG, UringLayouts.GETEVENTS_ARG_TS, waitTimeout.address());
  }

  /**
   * Creates a ring.
   *
   * @param sqEntries submission queue size (the kernel rounds it up to a power of two)
   * @param cqEntries completion queue size, or 0 for the kernel's default of twice sqEntries
   * @param setupFlags IORING_SETUP_* flags
   * @throws ErrnoException when io_uring_setup or mmap fails
   */
  public static Ring setup(int sqEntries, int cqEntries, int setupFlags) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment params = arena.allocate(UringLayouts.PARAMS);
      int flags = setupFlags | (cqEntries > 0 ? IoUringAbi.SETUP_CQSIZE : 0);
      params.set(JAVA_INT, UringLayouts.PARAMS_FLAGS, flags);
      params.set(JAVA_INT, UringLayouts.PARAMS_CQ_ENTRIES, cqEntries);
      int fd =
          (int) ErrnoException.check("io_uring_setup", Syscalls.ioUringSetup(sqEntries, params));
      int features = params.get(JAVA_INT, UringLayouts.PARAMS_FEATURES);
      int required =
          IoUringAbi.FEAT_SINGLE_MMAP | IoUringAbi.FEAT_NODROP | IoUringAbi.FEAT_SUBMIT_STABLE;
      if ((features & required) != required) {
        Syscalls.close(fd);
        throw new ErrnoException(
            "io_uring_setup (features 0x" + Integer.toHexString(features) + ")", Errno.EOPNOTSUPP);
      }
      int sqCount = params.get(JAVA_INT, UringLayouts.PARAMS_SQ_ENTRIES);
      int cqCount = params.get(JAVA_INT, UringLayouts.PARAMS_CQ_ENTRIES);
      long sqOff = UringLayouts.PARAMS_SQ_OFF;
      long cqOff = UringLayouts.PARAMS_CQ_OFF;
      long sqRingLength = params.get(JAVA_INT, sqOff + UringLayouts.SQ_OFF_ARRAY) + 4L * sqCount;
      long cqRingLength =
          params.get(JAVA_INT, cqOff + UringLayouts.CQ_OFF_CQES)
              + UringLayouts.CQE.byteSize() * cqCount;
      long ringLength = Math.max(sqRingLength, cqRingLength);
      long sqesLength = UringLayouts.SQE.byteSize() * sqCount;
      int prot = Syscalls.PROT_READ | Syscalls.PROT_WRITE;
      int mapFlags = Syscalls.MAP_SHARED | Syscalls.MAP_POPULATE;
      long ringAddress = Syscalls.mmap(ringLength, prot, mapFlags, fd, IoUringAbi.OFF_SQ_RING);
      if (ringAddress < 0) {
        Syscalls.close(fd);
        throw new ErrnoException("mmap of the io_uring SQ/CQ rings", (int) -ringAddress);
      }
      long sqesAddress = Syscalls.mmap(sqesLength, prot, mapFlags, fd, IoUringAbi.OFF_SQES);
      if (sqesAddress < 0) {
        Syscalls.munmap(ringAddress, ringLength);
        Syscalls.close(fd);
        throw new ErrnoException("mmap of the io_uring SQE array", (int) -sqesAddress);
      }
      return new Ring(fd, ringAddress, ringLength, sqesAddress, sqesLength, params);
    }
  }

  public SubmissionQueue submissionQueue() {
    return submissionQueue;
  }

  public CompletionQueue completionQueue() {
    return completionQueue;
  }

  /** The opcodes this kernel supports (IORING_REGISTER_PROBE). */
  public BitSet supportedOpcodes() {
    int maxOps = 256;
    try (Arena arena = Arena.ofConfined()) {
      long size = UringLayouts.PROBE.byteSize() + UringLayouts.PROBE_OP.byteSize() * maxOps;
      MemorySegment probe = arena.allocate(size, 8);
      ErrnoException.check(
          "io_uring_register(IORING_REGISTER_PROBE)",
          Syscalls.ioUringRegister(fd, IoUringAbi.REGISTER_PROBE, probe, maxOps));
      return parseProbe(probe);
    }
  }

  /** Reads a struct io_uring_probe; bounded by its own ops_len and by the segment. */
  static BitSet parseProbe(MemorySegment probe) {
    BitSet supported = new BitSet();
    int opsLength = Byte.toUnsignedInt(probe.get(JAVA_BYTE, UringLayouts.PROBE_OPS_LEN));
    long opSize = UringLayouts.PROBE_OP.byteSize();
    long first = UringLayouts.PROBE.byteSize();
    int inSegment = (int) Math.min(opsLength, (probe.byteSize() - first) / opSize);
    for (int op = 0; op < inSegment; op++) {
      short flags = probe.get(JAVA_SHORT, first + op * opSize + UringLayouts.PROBE_OP_FLAGS);
      if ((flags & IoUringAbi.IO_URING_OP_SUPPORTED) != 0) {
        supported.set(op);
      }
    }
    return supported;
  }

  /**
   * Submits published SQEs and, with GETEVENTS, waits for {@code minComplete} completions. Returns
   * the number of SQEs consumed, or -errno.
   */
  public int enter(int toSubmit, int minComplete, int flags) {
    // Only a plain submit is short enough for a critical downcall: with GETEVENTS the kernel
    // also runs deferred completions, thousands after a wake-all, while safepoints wait.
    if ((flags & IoUringAbi.ENTER_GETEVENTS) == 0) {
      return Syscalls.ioUringSubmit(fd, toSubmit, flags);
    }
    return Syscalls.ioUringEnter(fd, toSubmit, minComplete, flags);
  }

  /**
   * Submits published SQEs and waits for one completion, but no longer than {@code timeoutNanos}
   * (IORING_ENTER_EXT_ARG, Linux 5.11: every kernel with the futex opcodes has it). Returns the
   * number of SQEs consumed, or -errno: -ETIME when the time passed with nothing submitted and
   * nothing completed.
   */
  public int enterAndWait(int toSubmit, long timeoutNanos) {
    waitTimeout.set(JAVA_LONG, UringLayouts.TIMESPEC_SEC, timeoutNanos / 1_000_000_000L);
    waitTimeout.set(JAVA_LONG, UringLayouts.TIMESPEC_NSEC, timeoutNanos % 1_000_000_000L);
    return Syscalls.ioUringEnter(
        fd,
        toSubmit,
        1,
        IoUringAbi.ENTER_GETEVENTS | IoUringAbi.ENTER_EXT_ARG,
        geteventsArg,
        geteventsArg.byteSize());
  }

  /** Unmaps and closes. The caller must have cancelled every pending request first. */
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    Syscalls.munmap(sqesAddress, sqesLength);
    Syscalls.munmap(ringAddress, ringLength);
    Syscalls.close(fd);
  }
}
