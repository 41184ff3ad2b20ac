package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import dev.ringlock.testsupport.SeccompFilter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A waiter in a JVM where a seccomp filter refuses pidfd_open (ENOSYS, as gVisor answers; EPERM, as
 * a container profile may) queues lock() behind a holder in another JVM, which is SIGKILLed: the
 * waiter takes the mutex over, by /proc, within a bound. Before, it waited for ever.
 */
@Timeout(120)
class MutexOwnerDeathWithoutPidfdTest {
  /** /proc is polled every 100 ms; the bound leaves room for a loaded CI machine. */
  private static final long TAKEOVER_BOUND_MILLIS = 3_000;

  @TempDir Path directory;
  private Path regionFile;
  private final List<Child> children = new ArrayList<>();

  @BeforeEach
  void createRegion() throws Exception {
    regionFile = directory.resolve("region");
    SharedRegion.open(regionFile).close();
  }

  @AfterEach
  void killChildren() {
    children.forEach(Child::close);
  }

  @ParameterizedTest
  @ValueSource(ints = {38 /* ENOSYS */, 1 /* EPERM */})
  void aWaiterWithoutPidfdTakesOverFromAKilledHolder(int errno) throws Exception {
    Child holder = worker(Child.jvm(OwnerDeathWorker.class, args()));
    holder.send("lock");
    holder.expect("TOOK");
    Child waiter =
        worker(
            Child.jvm(OwnerDeathWorker.class, args())
                .refusing(errno, SeccompFilter.SYS_PIDFD_OPEN));
    waiter.send("lock");
    Thread.sleep(500); // the waiter queues, arms its wait and watches the holder
    long killedAt = System.nanoTime();
    holder.kill();
    String took = waiter.expect("TOOK");
    long millis = TimeUnit.NANOSECONDS.toMillis(Long.parseLong(took.split(" ")[2]) - killedAt);
    System.out.println("errno " + errno + ": takeover " + millis + " ms after SIGKILL");
    assertTrue(Boolean.parseBoolean(took.split(" ")[1]), "the takeover reports the death");
    assertTrue(millis < TAKEOVER_BOUND_MILLIS, "took over " + millis + " ms after the kill");
  }

  private String[] args() {
    return new String[] {regionFile.toString(), "m"};
  }

  /** A child driven through its stdin, its output read line by line, once it is READY. */
  private Child worker(Child.Builder builder) throws Exception {
    Child worker = builder.captureOutput().start();
    children.add(worker);
    worker.awaitStarted("READY");
    return worker;
  }
}
