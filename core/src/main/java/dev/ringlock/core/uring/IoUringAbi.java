package dev.ringlock.core.uring;

/** io_uring ABI numbers from include/uapi/linux/io_uring.h, checked against Linux 6.18. */
public final class IoUringAbi {
  // enum io_uring_op
  public static final byte OP_NOP = 0;
  public static final byte OP_POLL_ADD = 6;
  public static final byte OP_TIMEOUT = 11;
  public static final byte OP_ASYNC_CANCEL = 14;
  public static final byte OP_LINK_TIMEOUT = 15;
  public static final byte OP_READ = 22;
  public static final byte OP_FUTEX_WAIT = 51;
  public static final byte OP_FUTEX_WAKE = 52;
  public static final byte OP_FUTEX_WAITV = 53;

  // sqe->flags
  public static final byte IOSQE_IO_LINK = 1 << 2;
  public static final byte IOSQE_CQE_SKIP_SUCCESS = 1 << 6;

  // io_uring_params.flags
  public static final int SETUP_CQSIZE = 1 << 3;
  public static final int SETUP_SUBMIT_ALL = 1 << 7;
  public static final int SETUP_COOP_TASKRUN = 1 << 8;
  public static final int SETUP_SINGLE_ISSUER = 1 << 12;
  public static final int SETUP_DEFER_TASKRUN = 1 << 13;

  // io_uring_params.features
  public static final int FEAT_SINGLE_MMAP = 1;
  public static final int FEAT_NODROP = 1 << 1;
  public static final int FEAT_SUBMIT_STABLE = 1 << 2;

  // io_uring_enter(2) flags
  public static final int ENTER_GETEVENTS = 1;
  public static final int ENTER_EXT_ARG = 1 << 3;

  // sq_ring->flags
  public static final int SQ_CQ_OVERFLOW = 1 << 1;

  // mmap offsets
  public static final long OFF_SQ_RING = 0L;
  public static final long OFF_SQES = 0x1000_0000L;

  // io_uring_register(2) opcodes
  public static final int REGISTER_PROBE = 8;

  // struct io_uring_probe_op.flags
  public static final int IO_URING_OP_SUPPORTED = 1;

  // sqe->cancel_flags
  public static final int ASYNC_CANCEL_ALL = 1;
  public static final int ASYNC_CANCEL_ANY = 1 << 2;

  // poll events
  public static final int POLLIN = 0x0001;

  /** The most entries FUTEX_WAITV takes (FUTEX_WAITV_MAX). */
  public static final int FUTEX_WAITV_MAX = 128;

  private IoUringAbi() {}
}
