package dev.ringlock.testsupport;

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
import java.util.Arrays;

/**
 * A seccomp filter that fails some system calls with an errno and allows every other, as a
 * container's profile refuses io_uring or a sandbox refuses pidfd_open. Runs in the child JVM:
 * {@link #install} from a test's main class, or this class's {@link #main} in front of one ({@link
 * Child.Builder#refusing}).
 */
/*
 * Overview
 *
 * The program is classic BPF over struct seccomp_data: load the system call number (offset 0),
 * compare it with each refused number in turn, and on a match jump over the remaining compares and
 * the ALLOW to the ERRNO return. PR_SET_NO_NEW_PRIVS first, so an unprivileged process may install
 * it. A filter applies to the thread that installs it and to the threads and processes it starts
 * from then on: installed on the main thread before any ringlock code runs, it covers the ring's
 * threads and any grandchild JVM.
 */
public final class SeccompFilter {
  /** io_uring_setup, io_uring_enter and io_uring_register on x86_64 and arm64 alike. */
  public static final int[] IO_URING_SYSCALLS = {425, 426, 427};

  /** pidfd_open on x86_64 and arm64 alike. */
  public static final int SYS_PIDFD_OPEN = 434;

  /** The exit status of a child whose filter could not be installed. */
  public static final int EXIT_NOT_INSTALLED = 2;

  private static final int PR_SET_NO_NEW_PRIVS = 38;
  private static final int PR_SET_SECCOMP = 22;
  private static final int SECCOMP_MODE_FILTER = 2;
  private static final short BPF_LD_W_ABS = 0x20;
  private static final short BPF_JEQ_K = 0x15;
  private static final short BPF_RET_K = 0x06;
  private static final int SECCOMP_RET_ALLOW = 0x7fff_0000;
  private static final int SECCOMP_RET_ERRNO = 0x0005_0000;

  private SeccompFilter() {}

  /**
   * Arguments: the errno, the refused system call numbers separated by commas, the main class to
   * run under the filter and its arguments. Exits {@link #EXIT_NOT_INSTALLED} if the filter could
   * not be installed.
   */
  public static void main(String[] args) throws Throwable {
    int errno = Integer.parseInt(args[0]);
    int[] syscalls = Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray();
    if (!install(errno, syscalls)) {
      System.err.println("the seccomp filter could not be installed");
      System.exit(EXIT_NOT_INSTALLED);
    }
    Class.forName(args[2])
        .getMethod("main", String[].class)
        .invoke(null, (Object) Arrays.copyOfRange(args, 3, args.length));
  }

  /**
   * Installs a filter on this thread (and the threads and processes it starts from now on) that
   * fails {@code syscalls} with {@code errno}. False if it could not be installed.
   */
  public static boolean install(int errno, int... syscalls) throws Throwable {
    Linker linker = Linker.nativeLinker();
    MethodHandle prctl =
        linker.downcallHandle(
            linker.defaultLookup().find("prctl").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    int n = syscalls.length;
    int[][] program = new int[n + 3][];
    program[0] = new int[] {BPF_LD_W_ABS, 0, 0, 0}; // A = seccomp_data.nr
    for (int i = 0; i < n; i++) {
      program[1 + i] = new int[] {BPF_JEQ_K, n - i, 0, syscalls[i]}; // match: to the ERRNO return
    }
    program[n + 1] = new int[] {BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW};
    program[n + 2] = new int[] {BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | errno};
    Arena arena = Arena.global(); // the kernel copies the program: its memory may live on
    MemorySegment filter = arena.allocate(8L * program.length, 8); // struct sock_filter[]
    for (int i = 0; i < program.length; i++) {
      filter.set(JAVA_SHORT, 8L * i, (short) program[i][0]); // code
      filter.set(JAVA_BYTE, 8L * i + 2, (byte) program[i][1]); // jt
      filter.set(JAVA_BYTE, 8L * i + 3, (byte) program[i][2]); // jf
      filter.set(JAVA_INT, 8L * i + 4, program[i][3]); // k
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
