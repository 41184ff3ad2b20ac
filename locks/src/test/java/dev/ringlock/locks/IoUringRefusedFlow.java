package dev.ringlock.locks;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.memory.MappedRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A child JVM that installs a seccomp filter refusing io_uring_setup, io_uring_enter and
 * io_uring_register with EPERM, as Docker's and containerd's default profiles do, then runs every
 * primitive on the region at args[0] with no backend asked for (AUTO): contended Mutex and
 * Semaphore, WaitQueue wakes, and a ConditionVariable ping-pong with a grandchild JVM, which
 * inherits the filter. Exits 0 when all of it worked on the syscalls backend; 2 if the filter could
 * not be installed; 1 (with a stack trace) otherwise.
 *
 * <p>(The filter program is the one core's SeccompChild installs: test code of one module cannot
 * reach the other's.)
 */
public final class IoUringRefusedFlow {
  private static final int PR_SET_NO_NEW_PRIVS = 38;
  private static final int PR_SET_SECCOMP = 22;
  private static final int SECCOMP_MODE_FILTER = 2;
  private static final int EPERM = 1;

  private IoUringRefusedFlow() {}

  public static void main(String[] args) throws Throwable {
    if (!installFilter()) {
      System.exit(2);
    }
    ChildJvm.startWatchdog(90_000, () -> "the flow under the filter");
    Path file = Path.of(args[0]);
    try (SharedRegion region = SharedRegion.open(file)) {
      if (region.ring().backend() != FutexRing.Backend.SYSCALLS) {
        throw new IllegalStateException("AUTO chose " + region.ring().backend());
      }
      mutexes(region);
      semaphores(region);
      waitQueues(region);
      conditionsWithAGrandchild(region, file);
      System.err.println("every primitive ran on " + region.ring());
    }
    System.exit(0);
  }

  private static void mutexes(SharedRegion region) throws Exception {
    Mutex mutex = region.mutex("flow-mutex");
    int[] counter = new int[1];
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      workers.add(
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < 200; i++) {
                  MutexGuard guard = mutex.lock().join();
                  counter[0]++;
                  guard.unlock();
                }
              },
              runnable -> Thread.ofPlatform().start(runnable)));
    }
    CompletableFuture.allOf(workers.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
    if (counter[0] != 800) {
      throw new IllegalStateException("the mutex let two holders in: " + counter[0]);
    }
  }

  private static void semaphores(SharedRegion region) throws Exception {
    Semaphore semaphore = region.semaphore("flow-semaphore", 2);
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      workers.add(
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < 100; i++) {
                  semaphore.acquire(1).join();
                  most.accumulateAndGet(inside.incrementAndGet(), Math::max);
                  Thread.onSpinWait();
                  inside.decrementAndGet();
                  semaphore.release(1);
                }
              },
              runnable -> Thread.ofPlatform().start(runnable)));
    }
    CompletableFuture.allOf(workers.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
    if (most.get() > 2 || semaphore.availablePermits() != 2) {
      throw new IllegalStateException("the semaphore let " + most.get() + " in at once");
    }
  }

  private static void waitQueues(SharedRegion region) throws Exception {
    WaitQueue queue = region.waitQueue("flow-queue");
    List<CompletableFuture<Void>> waiters = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      waiters.add(queue.await(i));
    }
    if (queue.wakeUpTo(9) != 10) { // the ten waiters with keys 0..9
      throw new IllegalStateException("wakeUpTo(9) did not find the ten waiters with keys 0..9");
    }
    for (int i = 0; i < 10; i++) {
      waiters.get(i).get(30, TimeUnit.SECONDS);
    }
    if (queue.wakeAll() != 10) {
      throw new IllegalStateException("wakeAll did not find the ten waiters left");
    }
    for (int i = 10; i < 20; i++) {
      waiters.get(i).get(30, TimeUnit.SECONDS);
    }
  }

  private static void conditionsWithAGrandchild(SharedRegion region, Path file) throws Exception {
    Path go = Path.of(file + ".go");
    Path log = Path.of(file + ".grandchild.log");
    Process grandchild =
        ChildJvm.start(log, ConditionPingPong.class, file.toString(), go.toString(), "1", "100");
    try (MappedRegion raw =
        MappedRegion.open(
            file, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      Files.createFile(go);
      ConditionPingPong.play(region, MutexWorker.counterOf(raw), 0, 100);
      if (!grandchild.waitFor(60, TimeUnit.SECONDS) || grandchild.exitValue() != 0) {
        throw new IllegalStateException(
            "the grandchild failed under the inherited filter: " + Files.readString(log));
      }
    } finally {
      grandchild.destroyForcibly();
      Files.deleteIfExists(go);
      Files.deleteIfExists(log);
    }
  }

  private static boolean installFilter() throws Throwable {
    Linker linker = Linker.nativeLinker();
    MethodHandle prctl =
        linker.downcallHandle(
            linker.defaultLookup().find("prctl").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    int[][] program = {
      {0x20, 0, 0, 0}, // BPF_LD|W|ABS: A = seccomp_data.nr
      {0x15, 3, 0, 425}, // BPF_JEQ io_uring_setup
      {0x15, 2, 0, 426}, // io_uring_enter
      {0x15, 1, 0, 427}, // io_uring_register
      {0x06, 0, 0, 0x7fff_0000}, // BPF_RET SECCOMP_RET_ALLOW
      {0x06, 0, 0, 0x0005_0000 | EPERM}, // BPF_RET SECCOMP_RET_ERRNO
    };
    Arena arena = Arena.global();
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
