package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Waiters in child JVMs killed with SIGKILL (nothing mocked): a wake meant for one waiter is never
 * swallowed by a dead one while a live one waits, a dead process's slots are reclaimed without a
 * full queue, and a process killed holding the list lock is taken over.
 */
@Timeout(60)
class WaitQueueOwnerDeathTest {
  @TempDir Path directory;

  private Path regionFile;
  private Path sync;
  private SharedRegion region;
  private WaitQueue queue;
  private final List<Child> children = new ArrayList<>();

  @BeforeEach
  void open() throws Exception {
    regionFile = directory.resolve("region");
    sync = Files.createDirectory(directory.resolve("sync"));
    region = SharedRegion.open(regionFile);
    queue = region.waitQueue("q", QueueDeathWorker.CAPACITY);
  }

  @AfterEach
  void close() {
    children.forEach(Child::close);
    region.close();
  }

  private Child start(String role, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of(role, regionFile.toString(), sync.toString()));
    args.addAll(List.of(more));
    Path log = directory.resolve(role + "-" + children.size() + ".log");
    Child child = Child.jvm(QueueDeathWorker.class).args(args).logTo(log).start();
    children.add(child);
    return child;
  }

  /** A child that has queued a waiter (through the queue, or the condition) and reported it. */
  private Child armedChild(String role, String name) throws Exception {
    Child child = start(role, name);
    WaitQueueWorker.awaitFile(sync.resolve("armed-" + name), queue);
    return child;
  }

  /** SIGSTOP, and waits until every thread of the child has stopped. */
  /**
   * Stops the child outside the queue's list lock: a process with waiters takes it now and then
   * (its re-check's sweep), and one stopped inside it would stall every waker, which is another
   * test (ListLockStallCrossProcessTest).
   */
  private void stop(Child child) throws Exception {
    for (int attempt = 0; ; attempt++) {
      child.stop();
      eventually(() -> allThreadsStopped(child.pid()), "the child's threads did not all stop");
      if (listLockHolder() != child.pid()) {
        return;
      }
      assertTrue(attempt < 100, "the child always held the list lock when stopped");
      child.resume();
      Thread.sleep(7);
    }
  }

  /** The pid holding queue "q"'s list lock, as the queue's toString shows it, or 0. */
  private long listLockHolder() {
    Matcher holder = Pattern.compile("list lock held by pid (\\d+)").matcher(queue.toString());
    return holder.find() ? Long.parseLong(holder.group(1)) : 0;
  }

  private static boolean allThreadsStopped(long pid) {
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      return tasks.allMatch(
          task -> {
            try {
              String stat = Files.readString(task.resolve("stat"));
              return stat.charAt(stat.lastIndexOf(')') + 2) == 'T';
            } catch (NoSuchFileException e) {
              return true; // the thread has exited
            } catch (IOException e) {
              throw new IllegalStateException(e);
            }
          });
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void eventually(BooleanSupplier condition, String failure) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < end, failure);
      Thread.sleep(2);
    }
  }

  private static void assertStillWaits(CompletableFuture<?> waiter, String message)
      throws InterruptedException {
    Thread.sleep(100); // time for a wrong wake to arrive
    assertFalse(waiter.isDone(), message);
  }

  @Test
  void aDeadWaiterAtTheHeadLeavesAWakeOfOneToTheLiveWaiterInAnotherProcess() throws Exception {
    Child dead = armedChild("await", "dead");
    Child live = armedChild("await", "live");
    assertEquals(2, queue.waiting());
    dead.kill();

    assertEquals(1, queue.wake(1), "the wake was not counted for the live waiter: " + queue);
    assertTrue(live.waitFor(Duration.ofSeconds(20)), "the live waiter was not woken: " + queue);
    assertEquals(0, live.exitValue());
    assertEquals(0, queue.waiting(), "the dead waiter's slot is still counted: " + queue);
  }

  @Test
  void aDeadWaiterAtTheHeadLeavesAWakeOfOneToALiveWaiterHere() throws Exception {
    armedChild("await", "dead").kill();
    CompletableFuture<Void> mine = queue.await(0);
    CompletableFuture<Void> second = queue.await(0);
    assertEquals(3, queue.waiting());

    assertEquals(1, queue.wake(1));
    assertNull(mine.get(20, TimeUnit.SECONDS));
    assertStillWaits(second, "a wake of one woke two");
    assertEquals(1, queue.waiting(), "the dead waiter's slot is still counted: " + queue);
    assertEquals(1, queue.wakeAll());
    second.get(20, TimeUnit.SECONDS);
  }

  @Test
  void aSignalSkipsADeadWaiterOfTheCondition() throws Exception {
    ConditionVariable condition = region.condition("c", QueueDeathWorker.CAPACITY);
    Mutex mutex = region.mutex("m");
    armedChild("signalled", "dead").kill();
    CompletableFuture<MutexGuard> mine = condition.await(mutex.lock().get(20, TimeUnit.SECONDS));
    assertEquals(2, condition.waiting());

    MutexGuard signaller = mutex.lock().get(20, TimeUnit.SECONDS);
    condition.signal();
    signaller.unlock();
    mine.get(20, TimeUnit.SECONDS).unlock();
    assertEquals(0, condition.waiting(), "the dead waiter's slot is still counted: " + condition);
  }

  @Test
  void aWaiterThatDiesAfterAWakeChoseItPassesTheWakeOn() throws Exception {
    Child chosen = armedChild("await", "chosen");
    CompletableFuture<Void> mine = queue.await(0);
    stop(chosen); // alive, so the wake chooses it; stopped, so it cannot take the wake

    assertEquals(1, queue.wake(1));
    assertStillWaits(mine, "the wake went past the longest waiter");
    long killed = System.nanoTime();
    chosen.kill();
    assertNull(mine.get(20, TimeUnit.SECONDS), "the wake died with the chosen waiter");
    long passedOnMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
    System.out.println("wake passed on " + passedOnMillis + " ms after the chosen waiter's kill");
    assertEquals(0, queue.waiting());
  }

  @Test
  void aWakeChosenForAWaiterThatDiesAfterItsWakerLeftStillReachesALiveWaiter() throws Exception {
    Child chosen = armedChild("await", "chosen");
    CompletableFuture<Void> mine = queue.await(0);
    stop(chosen);
    Child waker = start("wake-one"); // chooses the stopped waiter, then exits
    waker.awaitSuccess(Duration.ofSeconds(20));
    assertStillWaits(mine, "the wake went past the longest waiter");

    long killed = System.nanoTime();
    chosen.kill(); // nobody watches it for the waker now: this process's periodic check finds it
    assertNull(mine.get(20, TimeUnit.SECONDS), "the wake died with the chosen waiter");
    long passedOnMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
    System.out.println("wake passed on " + passedOnMillis + " ms after the chosen waiter's kill");
    assertTrue(passedOnMillis < 5_000, "the periodic check is bounded: " + passedOnMillis + " ms");
  }

  @Test
  void aDeadProcessesWaitersStopCountingWithoutAWake() throws Exception {
    Child dead = armedChild("await", "dead");
    CompletableFuture<Void> mine = queue.await(0); // a waiter here: this process checks the queue
    assertEquals(2, queue.waiting());
    long killed = System.nanoTime();
    dead.kill();
    eventually(() -> queue.waiting() == 1, "the dead waiter is still counted: " + queue);
    System.out.println(
        "dead waiter reclaimed "
            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed)
            + " ms after its kill");
    assertFalse(mine.isDone());
    // the region's counters: two waits, and the dead one's slot reclaimed (a queue's takeover)
    RegionSnapshot.WaitQueueSnapshot counted =
        (RegionSnapshot.WaitQueueSnapshot) RegionSnapshot.read(region.file()).objects().get(0);
    assertEquals(2, counted.counters().acquisitions());
    assertEquals(1, counted.counters().takeovers());
    assertEquals(1, queue.wake(1));
    mine.get(20, TimeUnit.SECONDS);
  }

  @Test
  void aProcessKilledHoldingTheListLockMidWakeIsTakenOverAndTheListRepaired() throws Exception {
    List<CompletableFuture<Void>> waiters = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      waiters.add(queue.await(i));
    }
    Child holder = start("hold-list-lock");
    WaitQueueWorker.awaitFile(sync.resolve("locked"), queue);
    holder.kill();

    assertEquals(1, queue.wake(1)); // waits out the dead holder, takes over, repairs
    assertNull(waiters.get(3).get(20, TimeUnit.SECONDS), "the repair did not send the dead wake");
    waiters.get(0).get(20, TimeUnit.SECONDS); // the order survived the repair
    assertStillWaits(waiters.get(1), "the repair woke a waiter nobody chose");
    assertEquals(2, queue.waiting());
    assertEquals(2, queue.wakeAll());
    CompletableFuture.allOf(waiters.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
  }
}
