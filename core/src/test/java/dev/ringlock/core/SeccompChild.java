package dev.ringlock.core;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * A child JVM that installs a seccomp filter refusing io_uring_setup, io_uring_enter and
 * io_uring_register (as a container's default profile does), then opens a FutexRing.
 *
 * <p>Arguments: the errno the filter answers, then {@code io_uring} or {@code auto}. Forced onto
 * io_uring it exits {@link #EXIT_BASE} plus the ordinal of the IoUringUnavailableException reason
 * it got, or 1 if the ring opened. On AUTO it exits 0 if the ring opened on the syscalls backend
 * and a wait was woken through it, 3 otherwise. 2 if the filter could not be installed.
 *
 * <p>With the arguments {@code refuse <errno> <syscall,...> <main class> <args...>} it installs a
 * filter that fails those system calls with that errno instead, then runs the main class (from any
 * module's test classes on the class path): how tests run a JVM where pidfd_open is refused.
 */
public final class SeccompChild {
  static final int EXIT_BASE = 10;

  private static final int PR_SET_NO_NEW_PRIVS = 38;
  private static final int PR_SET_SECCOMP = 22;
  private static final int SECCOMP_MODE_FILTER = 2;
  private static final short BPF_LD_W_ABS = 0x20;
  private static final short BPF_JEQ_K = 0x15;
  private static final short BPF_RET_K = 0x06;
  private static final int SECCOMP_RET_ALLOW = 0x7fff_0000;
  private static final int SECCOMP_RET_ERRNO = 0x0005_0000;

  public static void main(String[] args) throws Throwable {
    if (args[0].equals("refuse")) {
      int[] syscalls =
          java.util.Arrays.stream(args[2].split(",")).mapToInt(Integer::parseInt).toArray();
      if (!installFilter(Integer.parseInt(args[1]), syscalls)) {
        System.exit(2);
      }
      Class.forName(args[3])
          .getMethod("main", String[].class)
          .invoke(null, (Object) java.util.Arrays.copyOfRange(args, 4, args.length));
      return;
    }
    int errno = Integer.parseInt(args[0]);
    // Threads inherit the filter of the thread that creates them, so the ring's thread, which
    // this thread starts, runs under it.
    if (!installFilter(errno)) {
      System.exit(2);
    }
    if (args[1].equals("auto")) {
      System.exit(wakesThroughAuto() ? 0 : 3);
    }
    try (FutexRing ring = FutexRing.open(FutexRing.options().backend(FutexRing.Backend.IO_URING))) {
      System.err.println("the ring opened under a filter that refuses io_uring: " + ring);
      System.exit(1);
    } catch (IoUringUnavailableException e) {
      System.err.println(e.getMessage());
      System.exit(EXIT_BASE + e.reason().ordinal());
    }
  }

  private static boolean wakesThroughAuto() throws Exception {
    try (FutexRing ring = FutexRing.open()) {
      Words words = new Words(1);
      var wait = ring.wait(words.word(0), 0);
      int woken = ring.wake(words.word(0), 1).get(10, java.util.concurrent.TimeUnit.SECONDS);
      boolean ok =
          ring.backend() == FutexRing.Backend.SYSCALLS
              && woken == 1
              && wait.get(10, java.util.concurrent.TimeUnit.SECONDS).isWoken();
      System.err.println(ring + " on " + ring.backend() + ": woke " + woken);
      return ok;
    }
  }

  private static boolean installFilter(int errno) throws Throwable {
    return installFilter(errno, 425, 426, 427); // io_uring_setup, io_uring_enter, _register
  }

  /**
   * Installs a filter on this thread (and the threads it starts from now on) that fails {@code
   * syscalls} with {@code errno} and allows every other call. False if it could not be installed.
   */
  static boolean installFilter(int errno, int... syscalls) throws Throwable {
    Linker linker = Linker.nativeLinker();
    MethodHandle prctl =
        linker.downcallHandle(
            linker.defaultLookup().find("prctl").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    Arena arena = Arena.global();
    int n = syscalls.length;
    int[][] program = new int[n + 3][];
    program[0] = new int[] {BPF_LD_W_ABS, 0, 0, 0}; // A = seccomp_data.nr
    for (int i = 0; i < n; i++) {
      // on a match, jump over the remaining tests and the ALLOW, to the ERRNO return
      program[1 + i] = new int[] {BPF_JEQ_K, n - i, 0, syscalls[i]};
    }
    program[n + 1] = new int[] {BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW};
    program[n + 2] = new int[] {BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | errno};
    MemorySegment filter = arena.allocate(8L * program.length, 8);
    for (int i = 0; i < program.length; i++) {
      filter.set(JAVA_SHORT, 8L * i, (short) program[i][0]);
      filter.set(JAVA_BYTE, 8L * i + 2, (byte) program[i][1]);
      filter.set(JAVA_BYTE, 8L * i + 3, (byte) program[i][2]);
      filter.set(JAVA_INT, 8L * i + 4, program[i][3]);
    }
    MemorySegment fprog = arena.allocate(16, 8); // struct sock_fprog { u16 len; filter* }
    fprog.set(JAVA_SHORT, 0, (short) program.length);
    fprog.set(ADDRESS, 8, filter);
    if ((int) prctl.invokeExact(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) {
      return false;
    }
    return (int)
            prctl.invokeExact(PR_SET_SECCOMP, (long) SECCOMP_MODE_FILTER, fprog.address(), 0L, 0L)
        == 0;
  }
}
