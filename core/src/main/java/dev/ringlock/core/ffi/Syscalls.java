package dev.ringlock.core.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/*
 * Overview
 *
 * Every call ringlock makes into libc or the kernel goes through this class. Each wrapper
 * returns what the kernel returns: a non-negative result, or -errno, as liburing's functions
 * do. The layer above turns -errno into a typed exception; this one never throws for a failed
 * call, so nothing here needs to know about ringlock's exception types.
 *
 * errno is captured by the linker at the call (Linker.Option.captureCallState) into a
 * per-thread segment. Reading errno afterwards is wrong: the JVM may have run code that
 * overwrote it.
 *
 * Calls that never block are linked with Linker.Option.critical(false), which drops the
 * thread-state transition (~100 ns of the ~225 ns a trivial downcall costs here). A critical
 * call must never block, because the GC cannot reach a safepoint while it runs, so waiting
 * calls (io_uring_enter with GETEVENTS, futex_wait, read of an eventfd) use the normal link.
 *
 * The io_uring, futex2 and pidfd system calls have no glibc wrappers; they go through
 * syscall(2). Their numbers (425 and above) were assigned after the syscall tables were
 * unified, so they are the same on x86_64 and aarch64.
 */
public final class Syscalls {
  public static final long SYS_IO_URING_SETUP = 425;
  public static final long SYS_IO_URING_ENTER = 426;
  public static final long SYS_IO_URING_REGISTER = 427;
  public static final long SYS_PIDFD_OPEN = 434;

  /** futex(2), the classic multiplexed call: every Linux version. */
  public static final long SYS_FUTEX = 202;

  /** futex_waitv(2): Linux 5.16. */
  public static final long SYS_FUTEX_WAITV = 449;

  public static final long SYS_FUTEX_WAKE = 454;
  public static final long SYS_FUTEX_WAIT = 455;

  public static final int PROT_READ = 0x1;
  public static final int PROT_WRITE = 0x2;
  public static final int MAP_SHARED = 0x01;
  public static final int MAP_POPULATE = 0x08000;
  public static final int EFD_CLOEXEC = 0x80000;
  public static final int CLOCK_MONOTONIC = 1;

  // open(2) flags (asm-generic values, the same on x86_64 and aarch64)
  public static final int O_RDONLY = 0;
  public static final int O_RDWR = 0x2;
  public static final int O_CREAT = 0x40;
  public static final int O_EXCL = 0x80;
  public static final int O_NONBLOCK = 0x800;
  public static final int O_NOFOLLOW = 0x20000;
  public static final int O_CLOEXEC = 0x80000;

  // statx(2)
  public static final int AT_FDCWD = -100;
  public static final int AT_SYMLINK_NOFOLLOW = 0x100;
  public static final int AT_EMPTY_PATH = 0x1000;

  /** futex(2) operations: FUTEX_WAIT_BITSET and FUTEX_WAKE_BITSET, and the private flag. */
  public static final int FUTEX_WAIT_BITSET = 9;

  public static final int FUTEX_REQUEUE = 3;

  public static final int FUTEX_WAKE_BITSET = 10;
  public static final int FUTEX_PRIVATE_FLAG = 128;

  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final ThreadLocal<MemorySegment> THREAD_CALL_STATE =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE));

  private static final MethodHandle SYSCALL;
  private static final MethodHandle SYSCALL_CRITICAL;
  private static final MethodHandle MMAP;
  private static final MethodHandle MUNMAP;
  private static final MethodHandle CLOSE;
  private static final MethodHandle POLL;
  private static final MethodHandle EVENTFD;
  private static final MethodHandle WRITE_CRITICAL;
  private static final MethodHandle OPEN;
  private static final MethodHandle STATX;
  private static final MethodHandle FCHMOD;
  private static final MethodHandle FCHOWN;
  private static final MethodHandle GETEUID;
  private static final MethodHandle GETGRNAM_R;
  private static final MethodHandle GETRLIMIT;
  private static final MethodHandle READ;

  static {
    Linker linker = Linker.nativeLinker();
    Linker.Option errno = Linker.Option.captureCallState("errno");
    Linker.Option critical = Linker.Option.critical(false);
    FunctionDescriptor syscall6 =
        FunctionDescriptor.of(
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    Linker.Option variadic = Linker.Option.firstVariadicArg(1);
    SYSCALL = linker.downcallHandle(libc("syscall"), syscall6, variadic, errno);
    SYSCALL_CRITICAL = linker.downcallHandle(libc("syscall"), syscall6, variadic, errno, critical);
    MMAP =
        linker.downcallHandle(
            libc("mmap"),
            FunctionDescriptor.of(
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
            errno);
    MUNMAP =
        linker.downcallHandle(
            libc("munmap"), FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), errno);
    CLOSE = linker.downcallHandle(libc("close"), FunctionDescriptor.of(JAVA_INT, JAVA_INT), errno);
    POLL =
        linker.downcallHandle(
            libc("poll"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), errno);
    EVENTFD =
        linker.downcallHandle(
            libc("eventfd"), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), errno);
    WRITE_CRITICAL =
        linker.downcallHandle(
            libc("write"),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG),
            errno,
            critical);
    OPEN =
        linker.downcallHandle(
            libc("open"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2),
            errno);
    STATX =
        linker.downcallHandle(
            libc("statx"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS),
            errno);
    FCHMOD =
        linker.downcallHandle(
            libc("fchmod"), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), errno);
    FCHOWN =
        linker.downcallHandle(
            libc("fchown"), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), errno);
    GETEUID = linker.downcallHandle(libc("geteuid"), FunctionDescriptor.of(JAVA_INT), critical);
    // getgrnam_r returns the error number itself (0, or ERANGE when the buffer is too small).
    GETGRNAM_R =
        linker.downcallHandle(
            libc("getgrnam_r"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    GETRLIMIT =
        linker.downcallHandle(
            libc("getrlimit"), FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), errno);
    READ =
        linker.downcallHandle(
            libc("read"), FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), errno);
  }

  private Syscalls() {}

  private static MemorySegment libc(String name) {
    return Linker.nativeLinker()
        .defaultLookup()
        .find(name)
        .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
  }

  private static long orErrno(long result, MemorySegment callState) {
    return result == -1 ? -(int) ERRNO.get(callState, 0L) : result;
  }

  private static long syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return orErrno((long) SYSCALL.invokeExact(state, nr, a1, a2, a3, a4, a5, a6), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  private static long syscallCritical(long nr, long a1, long a2, long a3, long a4) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return orErrno((long) SYSCALL_CRITICAL.invokeExact(state, nr, a1, a2, a3, a4, 0L, 0L), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  private static long syscallCriticalWide(
      long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return orErrno((long) SYSCALL_CRITICAL.invokeExact(state, nr, a1, a2, a3, a4, a5, a6), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  /**
   * A downcall handle throws only if the call could not be made at all (a wrong type, a bug in this
   * class): no errno applies, so it surfaces as an Error.
   */
  private static Error linkageFailure(Throwable t) {
    if (t instanceof Error e) {
      return e;
    }
    return new AssertionError("downcall failed without a result", t);
  }

  /** io_uring_setup(2): the ring's fd, or -errno. {@code params} is a struct io_uring_params. */
  public static int ioUringSetup(int entries, MemorySegment params) {
    return (int) syscall(SYS_IO_URING_SETUP, entries, params.address(), 0, 0, 0, 0);
  }

  /** io_uring_enter(2) that may wait (GETEVENTS with minComplete above zero): a normal call. */
  public static int ioUringEnter(int fd, int toSubmit, int minComplete, int flags) {
    return (int) syscall(SYS_IO_URING_ENTER, fd, toSubmit, minComplete, flags, 0, 0);
  }

  /**
   * io_uring_enter(2) that may wait, with IORING_ENTER_EXT_ARG in {@code flags} and {@code arg} a
   * struct io_uring_getevents_arg of {@code argSize} bytes: a normal call.
   */
  public static int ioUringEnter(
      int fd, int toSubmit, int minComplete, int flags, MemorySegment arg, long argSize) {
    return (int)
        syscall(SYS_IO_URING_ENTER, fd, toSubmit, minComplete, flags, arg.address(), argSize);
  }

  /** io_uring_enter(2) that submits and never waits: a critical call. */
  public static int ioUringSubmit(int fd, int toSubmit, int flags) {
    return (int) syscallCritical(SYS_IO_URING_ENTER, fd, toSubmit, 0, flags);
  }

  /** io_uring_register(2). */
  public static int ioUringRegister(int fd, int opcode, MemorySegment arg, int nrArgs) {
    return (int) syscall(SYS_IO_URING_REGISTER, fd, opcode, arg.address(), nrArgs, 0, 0);
  }

  /** pidfd_open(2): a pidfd for {@code pid}, or -errno (-ESRCH when no such process). */
  public static int pidfdOpen(int pid, int flags) {
    return (int) syscall(SYS_PIDFD_OPEN, pid, flags, 0, 0, 0, 0);
  }

  /**
   * futex_wake(2) (futex2): the number of waiters woken, or -errno. Never blocks.
   *
   * @param mask an unsigned 32-bit bitset; sign extension would make it -EINVAL
   */
  public static int futexWake(long address, int mask, int count, int futex2Flags) {
    return (int)
        syscallCritical(SYS_FUTEX_WAKE, address, Integer.toUnsignedLong(mask), count, futex2Flags);
  }

  /**
   * futex_wait(2) (futex2): 0 when woken, -EAGAIN when the word did not hold {@code expected},
   * -ETIMEDOUT when {@code timeout} (an absolute CLOCK_MONOTONIC struct __kernel_timespec, or NULL)
   * passed. Blocks.
   */
  public static int futexWait(
      long address, int expected, int mask, int futex2Flags, MemorySegment timeout) {
    return (int)
        syscall(
            SYS_FUTEX_WAIT,
            address,
            Integer.toUnsignedLong(expected),
            Integer.toUnsignedLong(mask),
            futex2Flags,
            timeout.address(),
            CLOCK_MONOTONIC);
  }

  /**
   * futex(2) FUTEX_WAKE_BITSET: wakes up to {@code count} waiters whose bitset shares a bit with
   * {@code mask}; the number woken, or -errno. Never blocks. Unlike {@link #futexWake} (Linux 6.7)
   * it works on every kernel, so the backend that must serve kernels without io_uring's futex
   * operations uses it.
   *
   * @param privateFutex true for memory no other process maps (FUTEX_PRIVATE_FLAG)
   */
  public static int futexWakeBitset(long address, int count, int mask, boolean privateFutex) {
    int op = FUTEX_WAKE_BITSET | (privateFutex ? FUTEX_PRIVATE_FLAG : 0);
    return (int)
        syscallCriticalWide(SYS_FUTEX, address, op, count, 0L, 0L, Integer.toUnsignedLong(mask));
  }

  /**
   * futex(2) FUTEX_WAIT_BITSET: 0 when woken, -EAGAIN when the word did not hold {@code expected},
   * -ETIMEDOUT when {@code deadline} (an absolute CLOCK_MONOTONIC struct timespec, or NULL) passed,
   * -EINTR on a signal. Blocks.
   */
  public static int futexWaitBitset(
      long address, int expected, int mask, boolean privateFutex, MemorySegment deadline) {
    int op = FUTEX_WAIT_BITSET | (privateFutex ? FUTEX_PRIVATE_FLAG : 0);
    return (int)
        syscall(
            SYS_FUTEX,
            address,
            op,
            Integer.toUnsignedLong(expected),
            deadline.address(),
            0L,
            Integer.toUnsignedLong(mask));
  }

  /**
   * How many waiters are queued on the futex at {@code address}, without waking any: futex(2)
   * FUTEX_REQUEUE of the word onto itself, waking none and requeueing all (each goes to the back of
   * the same queue), returns their number; or -errno. Never blocks.
   */
  public static int futexCountWaiters(long address, boolean privateFutex) {
    int op = FUTEX_REQUEUE | (privateFutex ? FUTEX_PRIVATE_FLAG : 0);
    return (int) syscallCriticalWide(SYS_FUTEX, address, op, 0L, Integer.MAX_VALUE, address, 0L);
  }

  /**
   * futex_waitv(2): sleeps until one of {@code count} struct futex_waitv entries at {@code waiters}
   * is woken; its index, or -EAGAIN when a word did not hold its value, -ETIMEDOUT when {@code
   * deadline} (absolute CLOCK_MONOTONIC struct __kernel_timespec, or NULL) passed, -EINTR on a
   * signal, -ENOSYS before Linux 5.16. Blocks.
   */
  public static int futexWaitv(MemorySegment waiters, int count, MemorySegment deadline) {
    return (int)
        syscall(
            SYS_FUTEX_WAITV, waiters.address(), count, 0L, deadline.address(), CLOCK_MONOTONIC, 0L);
  }

  /** read(2), which may block: bytes read, or -errno. */
  public static long read(int fd, MemorySegment buffer) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return orErrno((long) READ.invokeExact(state, fd, buffer, buffer.byteSize()), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  /** mmap(2) of a file descriptor: the address, or -errno. */
  public static long mmap(long length, int prot, int flags, int fd, long offset) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return orErrno((long) MMAP.invokeExact(state, 0L, length, prot, flags, fd, offset), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  /** munmap(2): 0 or -errno. */
  public static int munmap(long address, long length) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return (int) orErrno((int) MUNMAP.invokeExact(state, address, length), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  /** close(2): 0 or -errno. */
  public static int close(int fd) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return (int) orErrno((int) CLOSE.invokeExact(state, fd), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  /**
   * poll(2) of {@code count} struct pollfd in {@code fds}: how many have events, or -errno. Blocks
   * for up to {@code timeoutMillis} (0: never).
   */
  public static int poll(MemorySegment fds, long count, int timeoutMillis) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return (int) orErrno((int) POLL.invokeExact(state, fds, count, timeoutMillis), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  /** eventfd(2): a new eventfd, or -errno. */
  public static int eventfd(int initialValue, int flags) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return (int) orErrno((int) EVENTFD.invokeExact(state, initialValue, flags), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  /** write(2) that cannot block (an eventfd increment): bytes written, or -errno. */
  public static long writeNonBlocking(int fd, MemorySegment buffer) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return orErrno(
          (long) WRITE_CRITICAL.invokeExact(state, fd, buffer, buffer.byteSize()), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  /**
   * getrlimit(2) of {@code resource} into {@code limit}, a struct rlimit { u64 cur, max; } of 16
   * bytes: 0 or -errno. libc's wrapper, since the syscall's number differs between architectures.
   */
  public static int getrlimit(int resource, MemorySegment limit) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return (int) orErrno((int) GETRLIMIT.invokeExact(state, resource, limit), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  /**
   * open(2) of the NUL-terminated {@code path}: the new fd, or -errno. With O_NONBLOCK it never
   * waits for a FIFO's other end, and with O_NOFOLLOW a symbolic link as the last component is
   * -ELOOP.
   */
  public static int open(MemorySegment path, int flags, int mode) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return (int) orErrno((int) OPEN.invokeExact(state, path, flags, mode), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  /**
   * statx(2) into {@code buffer} (a {@link Statx#LAYOUT}): 0 or -errno. {@code fstat} of an fd is
   * {@code statx(fd, "", AT_EMPTY_PATH, ...)}; {@code lstat} of a path is {@code statx(AT_FDCWD,
   * path, AT_SYMLINK_NOFOLLOW, ...)}.
   */
  public static int statx(int dirFd, MemorySegment path, int flags, MemorySegment buffer) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return (int)
          orErrno(
              (int) STATX.invokeExact(state, dirFd, path, flags, Statx.BASIC_STATS, buffer), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  /** fchmod(2): 0 or -errno. Unlike the mode given to open, it is not masked by the umask. */
  public static int fchmod(int fd, int mode) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return (int) orErrno((int) FCHMOD.invokeExact(state, fd, mode), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  /** fchown(2): 0 or -errno; -1 as uid or gid leaves that one unchanged. */
  public static int fchown(int fd, int uid, int gid) {
    MemorySegment state = THREAD_CALL_STATE.get();
    try {
      return (int) orErrno((int) FCHOWN.invokeExact(state, fd, uid, gid), state);
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  /** geteuid(2): the effective user id, which the kernel checks file permissions against. */
  public static int geteuid() {
    try {
      return (int) GETEUID.invokeExact();
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }

  /**
   * The id of the group called {@code name} (as {@code getgrnam_r(3)} finds it through NSS), or -1
   * if there is none.
   *
   * @throws IllegalStateException if the lookup itself failed (NSS unreachable)
   */
  public static long groupId(String name) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment cName = arena.allocateFrom(name);
      // struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem; }
      MemorySegment group = arena.allocate(32, 8);
      MemorySegment result = arena.allocate(ADDRESS);
      for (long bufferBytes = 4096; ; bufferBytes *= 2) {
        MemorySegment buffer = arena.allocate(bufferBytes);
        int error = (int) GETGRNAM_R.invokeExact(cName, group, buffer, bufferBytes, result);
        if (error == Errno.ERANGE && bufferBytes < (1 << 24)) {
          continue;
        }
        if (error != 0) {
          throw new IllegalStateException(
              "getgrnam_r(\"" + name + "\") failed with " + Errno.name(error));
        }
        if (result.get(ADDRESS, 0).equals(MemorySegment.NULL)) {
          return -1;
        }
        return Integer.toUnsignedLong(group.get(JAVA_INT, 16));
      }
    } catch (IllegalStateException e) {
      throw e;
    } catch (Throwable t) {
      throw linkageFailure(t);
    }
  }
}
