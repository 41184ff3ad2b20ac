package dev.ringlock.bench.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ringlock.bench.xproc.ChildProcess;
import dev.ringlock.bench.xproc.TakeoverHolder;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.NamedObject;
import dev.ringlock.core.memory.RegionDescriptor;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.RegionSnapshot.Counters;
import dev.ringlock.locks.Semaphore;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.WaitQueue;
import dev.ringlock.locks.internal.HolderTable;
import dev.ringlock.locks.internal.MutexWords;
import dev.ringlock.locks.internal.SemaphoreWords;
import dev.ringlock.locks.internal.WaitQueueWords;
import dev.ringlock.testsupport.Child;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class InspectCommandTest {
  private static final int OUR_PID = (int) ProcessHandle.current().pid();

  @TempDir Path directory;

  /** What one run of the command printed and returned. */
  record Run(int exitCode, String out, String err) {
    JsonObject json() {
      return JsonParser.parseString(out.strip()).getAsJsonObject();
    }

    JsonObject object(String name) {
      for (JsonElement object : json().getAsJsonArray("objects")) {
        if (object.getAsJsonObject().get("name").getAsString().equals(name)) {
          return object.getAsJsonObject();
        }
      }
      throw new AssertionError("no object '" + name + "' in " + out);
    }
  }

  static Run ringlock(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exitCode =
        Ringlock.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    return new Run(exitCode, out.toString(), err.toString());
  }

  @Test
  void aFileThatIsNotARegionExitsOneWithAMessageNamingIt() throws Exception {
    Path text = directory.resolve("notes.txt");
    Files.writeString(text, "this is not a region, just some text that is long enough ".repeat(9));
    Path empty = Files.createFile(directory.resolve("empty"));
    for (Path file : List.of(text, empty)) {
      Run run = ringlock("inspect", file.toString());
      assertEquals(Ringlock.FAILED, run.exitCode(), run.err());
      assertEquals("", run.out());
      assertTrue(run.err().startsWith("ringlock inspect: " + file), run.err());
      assertTrue(run.err().contains("is not a ringlock region"), run.err());
    }
    Run missing = ringlock("inspect", directory.resolve("absent").toString());
    assertEquals(Ringlock.FAILED, missing.exitCode());
    assertTrue(missing.err().contains("absent: no such file"), missing.err());
    Run aDirectory = ringlock("inspect", directory.toString());
    assertEquals(Ringlock.FAILED, aDirectory.exitCode());
    assertTrue(aDirectory.err().contains("is a directory"), aDirectory.err());
  }

  @Test
  void badUsageExitsTwo() {
    assertEquals(2, ringlock().exitCode());
    assertEquals(2, ringlock("inspect").exitCode());
    assertEquals(2, ringlock("inspect", "--no-such-option", "x").exitCode());
    Run countWithoutWatch = ringlock("inspect", "--count", "2", "x");
    assertEquals(2, countWithoutWatch.exitCode());
    assertTrue(countWithoutWatch.err().contains("--count needs --watch"), countWithoutWatch.err());
    assertEquals(0, ringlock("inspect", "--help").exitCode());
  }

  @Test
  void jsonShowsEveryObjectWithItsTypeAndStateAndTheFileIsNotChanged() throws Exception {
    Path file = directory.resolve("shapes.region");
    try (SharedRegion region = SharedRegion.open(file)) {
      Mutex held = region.mutex("held");
      region.mutex("free");
      Semaphore pool = region.semaphore("pool", 5);
      WaitQueue queue = region.waitQueue("queue", 16);
      region.condition("condition", 8);
      MutexGuard guard = held.tryLock().orElseThrow();
      assertTrue(pool.tryAcquire(2));
      List<CompletableFuture<Void>> waiters =
          List.of(queue.await(1), queue.await(2), queue.await(3));

      // Whether inspect writes is judged on a copy that no process maps: the live file changes
      // under this test's own region whatever inspect does (the wait queue's kernel wait re-arms
      // every 250 ms, Sleeper.RECHECK_MILLIS, and moves the queue's sleeper count as it does).
      Path copy = directory.resolve("shapes-copy.region");
      Files.copy(file, copy, StandardCopyOption.COPY_ATTRIBUTES);
      FileTime longAgo = FileTime.from(Instant.parse("2001-02-03T04:05:06Z"));
      Files.setLastModifiedTime(copy, longAgo);
      byte[] before = Files.readAllBytes(copy);
      Run ofCopy = ringlock("inspect", "--json", copy.toString());
      assertEquals(0, ofCopy.exitCode(), ofCopy.err());
      assertArrayEquals(before, Files.readAllBytes(copy), "inspect wrote to the region");
      assertEquals(longAgo, Files.getLastModifiedTime(copy), "inspect changed the mtime");

      Run run = ringlock("inspect", "--json", file.toString());
      assertEquals(0, run.exitCode(), run.err());
      JsonObject json = run.json();
      assertEquals(file.toString(), json.get("file").getAsString());
      assertEquals(RegionDescriptor.LAYOUT_VERSION, json.get("layoutVersion").getAsInt());
      assertEquals(5, json.getAsJsonArray("objects").size());

      JsonObject mutex = run.object("held");
      assertEquals("mutex", mutex.get("type").getAsString());
      assertEquals("held", mutex.get("state").getAsString());
      assertEquals(OUR_PID, mutex.get("ownerPid").getAsInt());
      assertTrue(mutex.get("ownerAlive").getAsBoolean());
      assertTrue(mutex.get("consistent").getAsBoolean());
      assertEquals(guard.fence(), mutex.get("lastFence").getAsLong());
      assertTrue(mutex.get("problem").isJsonNull());

      JsonObject free = run.object("free");
      assertEquals("free", free.get("state").getAsString());
      assertTrue(free.get("ownerPid").isJsonNull());

      JsonObject semaphore = run.object("pool");
      assertEquals("semaphore", semaphore.get("type").getAsString());
      assertEquals(3, semaphore.get("permits").getAsInt());
      assertTrue(semaphore.get("undoOnExit").getAsBoolean());
      JsonArray holders = semaphore.getAsJsonArray("holders");
      assertEquals(1, holders.size());
      assertEquals(OUR_PID, holders.get(0).getAsJsonObject().get("pid").getAsInt());
      assertEquals(2, holders.get(0).getAsJsonObject().get("permits").getAsInt());
      assertEquals(5, semaphore.get("total").getAsInt());
      assertEquals(2, semaphore.get("recorded").getAsInt());
      assertTrue(semaphore.get("countAgreesWithRecords").getAsBoolean());

      JsonObject waitQueue = run.object("queue");
      assertEquals("wait queue", waitQueue.get("type").getAsString());
      assertEquals(3, waitQueue.get("waiting").getAsInt());
      assertEquals(16, waitQueue.get("capacity").getAsInt());
      JsonObject byProcess = waitQueue.getAsJsonArray("waitingByProcess").get(0).getAsJsonObject();
      assertEquals(OUR_PID, byProcess.get("pid").getAsInt());
      assertEquals(3, byProcess.get("waiting").getAsInt());

      JsonObject condition = run.object("condition");
      assertEquals("condition variable", condition.get("type").getAsString());
      assertEquals(0, condition.get("waiting").getAsInt());
      assertEquals(8, condition.get("capacity").getAsInt());

      Run text = ringlock("inspect", file.toString());
      assertEquals(0, text.exitCode());
      assertTrue(
          text.out().contains("held by pid " + OUR_PID + " (alive), consistent"), text.out());
      assertTrue(text.out().contains("3 permits available of 5"), text.out());
      assertTrue(text.out().contains("3 waiting of 16"), text.out());

      queue.wakeAll();
      CompletableFuture.allOf(waiters.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
      pool.release(2);
      guard.unlock();
    }
  }

  @Test
  void aMutexHeldByALiveProcessAndThenByADeadOneIsShownAsSuch() throws Exception {
    Path file = directory.resolve("owner.region");
    try (SharedRegion region = SharedRegion.open(file);
        ChildProcess holder =
            ChildProcess.startJava(
                "holder", TakeoverHolder.class, List.of(file.toString(), "orders"))) {
      Mutex mutex = region.mutex("orders");
      holder.awaitLine("READY", Duration.ofSeconds(30));
      holder.send("lock");
      holder.awaitLine("HELD", Duration.ofSeconds(30));
      int holderPid = (int) holder.pid();

      Run alive = ringlock("inspect", "--json", file.toString());
      assertEquals(0, alive.exitCode(), alive.err());
      JsonObject whileAlive = alive.object("orders");
      assertEquals("held", whileAlive.get("state").getAsString());
      assertEquals(holderPid, whileAlive.get("ownerPid").getAsInt());
      assertTrue(whileAlive.get("ownerAlive").getAsBoolean());
      assertTrue(whileAlive.get("consistent").getAsBoolean());

      holder.kill();
      assertTrue(waitGone(holder), "the killed holder is still running");

      Run dead = ringlock("inspect", "--json", file.toString());
      assertEquals(0, dead.exitCode(), dead.err());
      JsonObject whileDead = dead.object("orders");
      assertEquals("held", whileDead.get("state").getAsString());
      assertEquals(holderPid, whileDead.get("ownerPid").getAsInt());
      assertFalse(whileDead.get("ownerAlive").getAsBoolean());
      assertFalse(whileDead.get("consistent").getAsBoolean());
      assertFalse(whileDead.get("ownerDied").getAsBoolean(), "nobody has taken it over yet");
      Run deadText = ringlock("inspect", file.toString());
      assertTrue(deadText.out().contains("held by pid " + holderPid + " (DEAD)"), deadText.out());

      // Taken over here: ownerDied until marked consistent.
      MutexGuard guard = mutex.lock().get(10, TimeUnit.SECONDS);
      assertTrue(guard.ownerDied());
      JsonObject takenOver = ringlock("inspect", "--json", file.toString()).object("orders");
      assertEquals(OUR_PID, takenOver.get("ownerPid").getAsInt());
      assertTrue(takenOver.get("ownerAlive").getAsBoolean());
      assertTrue(takenOver.get("ownerDied").getAsBoolean());
      assertFalse(takenOver.get("consistent").getAsBoolean());
      guard.markConsistent();
      JsonObject marked = ringlock("inspect", "--json", file.toString()).object("orders");
      assertFalse(marked.get("ownerDied").getAsBoolean());
      assertTrue(marked.get("consistent").getAsBoolean());
      guard.unlock();
      assertEquals(
          "free",
          ringlock("inspect", "--json", file.toString())
              .object("orders")
              .get("state")
              .getAsString());
    }
  }

  private static boolean waitGone(ChildProcess holder) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (holder.isAlive() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    return !holder.isAlive();
  }

  @Test
  void damagedObjectsAreShownWithTheProblemAndExitThree() throws Exception {
    Path file = directory.resolve("damaged.region");
    try (SharedRegion region = SharedRegion.open(file)) {
      region.mutex("mutex");
      region.semaphore("semaphore", 1);
    }
    edit(
        file,
        raw -> {
          mutex(raw, "mutex").spStarvingPid(0, Integer.MAX_VALUE);
          semaphore(raw, "semaphore").spFlags(0x40);
        });
    Run run = ringlock("inspect", "--json", file.toString());
    assertEquals(Ringlock.DAMAGED, run.exitCode(), run.out() + run.err());
    assertTrue(
        run.object("mutex").get("problem").getAsString().contains("starving slot 0"), run.out());
    assertTrue(
        run.object("semaphore").get("problem").getAsString().contains("flags 0x40 have bits"),
        run.out());
    Run text = ringlock("inspect", file.toString());
    assertEquals(Ringlock.DAMAGED, text.exitCode());
    assertTrue(
        text.out().contains("[DAMAGED: starving slot 0 holds 2147483647, not a pid"), text.out());
  }

  /** A region with one object of each kind, closed, and a raw mapping to damage it with. */
  private Path regionWithEveryKind(String fileName) throws Exception {
    Path file = directory.resolve(fileName);
    try (SharedRegion region = SharedRegion.open(file)) {
      region.mutex("mutex");
      region.semaphore("semaphore", 1);
      region.waitQueue("queue", 8);
      region.condition("condition", 8);
    }
    return file;
  }

  /** Maps {@code file} as another process would, lets {@code edit} damage it, and unmaps it. */
  private static void edit(Path file, Consumer<MappedRegion> edit) throws Exception {
    try (MappedRegion raw = MappedRegion.open(file, 1 << 20, 16)) {
      edit.accept(raw);
    }
  }

  // The objects' fields through the flyweights the library and the inspector read them with.

  private static MutexWords mutex(MappedRegion raw, String name) {
    return new MutexWords(raw.segment(), raw.find(name).orElseThrow().offset());
  }

  private static SemaphoreWords semaphore(MappedRegion raw, String name) {
    return new SemaphoreWords(raw.segment(), raw.find(name).orElseThrow().offset());
  }

  private static WaitQueueWords queue(MappedRegion raw, String name) {
    NamedObject object = raw.find(name).orElseThrow();
    return new WaitQueueWords(raw.segment(), object.offset(), object.length());
  }

  private static void assertDamaged(Path file, String name, String problem) {
    Run run = ringlock("inspect", "--json", file.toString());
    assertEquals(Ringlock.DAMAGED, run.exitCode(), run.out() + run.err());
    String reported = run.object(name).get("problem").getAsString();
    assertTrue(reported.contains(problem), reported);
    Run text = ringlock("inspect", file.toString());
    assertEquals(Ringlock.DAMAGED, text.exitCode(), text.out());
    assertTrue(text.out().contains("[DAMAGED: "), text.out());
  }

  @Test
  void everyValueTheLibraryRefusesMakesInspectExitThree() throws Exception {
    Path state = regionWithEveryKind("state.region");
    edit(state, raw -> queue(raw, "queue").spState(0, 9));
    assertDamaged(state, "queue", "slot 0 in state 9");

    Path lockWord = regionWithEveryKind("lock-word.region");
    edit(lockWord, raw -> queue(raw, "condition").spListLock(0xffffffff));
    assertDamaged(lockWord, "condition", "lock word of 0xffffffff");

    Path head = regionWithEveryKind("head.region");
    edit(head, raw -> queue(raw, "queue").spHead(999));
    assertDamaged(head, "queue", "head index of 999, outside its 8 slots");

    Path link = regionWithEveryKind("link.region");
    edit(link, raw -> queue(raw, "queue").spPrev(7, 8));
    assertDamaged(link, "queue", "slot 7 prev index of 8");

    Path hint = regionWithEveryKind("hint.region");
    edit(hint, raw -> queue(raw, "queue").spHint(-2));
    assertDamaged(hint, "queue", "allocation hint index of -2");

    Path count = regionWithEveryKind("count.region");
    edit(count, raw -> queue(raw, "queue").spOccupied(9));
    assertDamaged(count, "queue", "9 occupied slots, outside 0..8");

    Path mutexWord = regionWithEveryKind("mutex-word.region");
    edit(mutexWord, raw -> mutex(raw, "mutex").spWord(0xffffffff));
    assertDamaged(mutexWord, "mutex", "lock word 0xffffffff names pid 1073741823");

    Path starving = regionWithEveryKind("starving.region");
    edit(starving, raw -> mutex(raw, "mutex").spStarvingPid(2, -1));
    assertDamaged(starving, "mutex", "starving slot 2 holds -1");

    Path fence = regionWithEveryKind("fence.region");
    edit(fence, raw -> mutex(raw, "mutex").spFence(Long.MAX_VALUE));
    assertDamaged(fence, "mutex", "last fence is 9223372036854775807");

    Path holder = regionWithEveryKind("holder.region");
    edit(holder, raw -> semaphore(raw, "semaphore").spHolder(3, HolderTable.entry(0, 5)));
    assertDamaged(holder, "semaphore", "holder entry 3 records process 0 holding 5");
  }

  @Test
  void aDamagedDirectoryMakesInspectExitThreeNamingTheEntry() throws Exception {
    // "semaphore" moved onto "mutex"'s line: overlapping entries are refused at open
    Path overlap = regionWithEveryKind("overlap.region");
    long mutexOffset;
    try (MappedRegion raw = MappedRegion.open(overlap, 1 << 20, 16)) {
      mutexOffset = raw.find("mutex").orElseThrow().offset();
      long entry = directoryEntry(raw, 1);
      raw.segment()
          .set(
              ValueLayout.JAVA_LONG,
              entry + RegionDescriptor.ENTRY_OBJECT_OFFSET_OFFSET,
              mutexOffset);
    }
    Run run = ringlock("inspect", overlap.toString());
    assertEquals(Ringlock.DAMAGED, run.exitCode(), run.out() + run.err());
    assertTrue(run.err().contains("directory entry 1"), run.err());
    assertTrue(run.err().contains("never share bytes"), run.err());

    // a mutex whose entry records fewer bytes than a mutex has
    Path tooShort = regionWithEveryKind("short.region");
    try (MappedRegion raw = MappedRegion.open(tooShort, 1 << 20, 16)) {
      long entry = directoryEntry(raw, 0);
      raw.segment()
          .set(ValueLayout.JAVA_LONG, entry + RegionDescriptor.ENTRY_OBJECT_BYTES_OFFSET, 8L);
    }
    assertDamaged(tooShort, "mutex", "a mutex of 8 bytes; it needs 128"); // with its stats line

    // a type no ringlock of this layout writes
    Path unknown = regionWithEveryKind("unknown.region");
    try (MappedRegion raw = MappedRegion.open(unknown, 1 << 20, 16)) {
      long entry = directoryEntry(raw, 0);
      raw.segment().set(ValueLayout.JAVA_INT, entry + RegionDescriptor.ENTRY_TYPE_OFFSET, 77);
    }
    assertDamaged(unknown, "mutex", "type 77");
  }

  /** Where directory entry {@code index} starts in the region. */
  private static long directoryEntry(MappedRegion raw, int index) {
    long directory =
        raw.segment().get(ValueLayout.JAVA_LONG, RegionDescriptor.DIRECTORY_OFFSET_OFFSET);
    return directory + (long) index * RegionDescriptor.ENTRY_BYTES;
  }

  @Test
  void controlCharactersInANameCannotForgeATableRow() throws Exception {
    Path file = directory.resolve("names.region");
    String forged = "innocent\n  mutex       forged  free\u001b[2J\\";
    try (SharedRegion region = SharedRegion.open(file)) {
      region.mutex(forged);
    }
    Run text = ringlock("inspect", file.toString());
    assertEquals(0, text.exitCode(), text.err());
    List<String> lines = text.out().lines().toList();
    // the region line, the column heads, one row and its counters' line
    assertEquals(4, lines.size(), text.out());
    assertTrue(lines.get(3).strip().startsWith("totals: "), lines.get(3));
    assertTrue(
        lines.get(2).contains("innocent\\n  mutex       forged  free\\u001b[2J\\\\"), lines.get(2));
    assertFalse(text.out().contains("\u001b"), "an escape sequence reached the terminal");
    // JSON keeps the name exactly, escaped by the JSON writer
    Run json = ringlock("inspect", "--json", file.toString());
    assertEquals(1, json.out().strip().lines().count(), json.out());
    assertEquals(forged, json.object(forged).get("name").getAsString());
  }

  @Test
  @Timeout(20)
  void aFifoAtThePathIsRefusedWithoutBlocking() throws Exception {
    Path fifo = directory.resolve("fifo.region");
    Child.program("mkfifo", fifo.toString()).run(Duration.ofSeconds(30));
    long start = System.nanoTime();
    Run run = ringlock("inspect", fifo.toString());
    assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) < 5, "inspect blocked");
    assertEquals(Ringlock.FAILED, run.exitCode(), run.err());
    assertTrue(run.err().contains("not a regular file"), run.err());
    assertEquals("", run.out());
  }

  @Test
  void aSemaphoreCountThatDisagreesWithItsRecordsIsDamageUnlessADeadHolderExplainsIt()
      throws Exception {
    Path file = directory.resolve("counted.region");
    try (SharedRegion region = SharedRegion.open(file)) {
      region.semaphore("lost", 3); // its count will say 1 while nobody holds any: 2 lost
      // A dead holder records 2 and was killed inside a move that took 1 more: the next repair
      // returns all 3. Until then the count and the records differ, and that is no damage.
      region.semaphore("pending", 3);
    }
    int deadPid = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/kernel/pid_max")).get(0));
    edit(
        file,
        raw -> {
          semaphore(raw, "lost").spWord(1);
          semaphore(raw, "pending").spWord(0);
          semaphore(raw, "pending").spHolder(0, HolderTable.entry(deadPid + 1, 2));
        });
    Run run = ringlock("inspect", "--json", file.toString());
    assertEquals(Ringlock.DAMAGED, run.exitCode(), run.out() + run.err());
    JsonObject lost = run.object("lost");
    assertTrue(
        lost.get("problem")
            .getAsString()
            .contains("the count disagrees with the records: 1 available + 0 recorded"),
        run.out());
    assertFalse(lost.get("countAgreesWithRecords").getAsBoolean());
    JsonObject pending = run.object("pending");
    assertTrue(pending.get("problem").isJsonNull(), run.out());
    assertEquals(2, pending.get("recorded").getAsInt());
    assertFalse(pending.get("countAgreesWithRecords").getAsBoolean());
    JsonObject holder = pending.getAsJsonArray("holders").get(0).getAsJsonObject();
    assertFalse(holder.get("alive").getAsBoolean());
    assertEquals(2, holder.get("permits").getAsInt());
    Run text = ringlock("inspect", file.toString());
    assertTrue(text.out().contains("1 permit available of 3"), text.out());
    assertTrue(text.out().contains("(DEAD) holds 2"), text.out());
    assertTrue(text.out().contains("differ by 1 until the next repair"), text.out());
  }

  @Test
  void watchPrintsASnapshotPerInterval() throws Exception {
    Path file = directory.resolve("watched.region");
    try (SharedRegion region = SharedRegion.open(file)) {
      region.mutex("m");
    }
    Run run =
        ringlock(
            "inspect", "--watch", "--count", "3", "--interval", "50", "--json", file.toString());
    assertEquals(0, run.exitCode(), run.err());
    List<String> lines = run.out().lines().toList();
    assertEquals(3, lines.size(), run.out());
    for (String line : lines) {
      assertEquals(
          "m",
          JsonParser.parseString(line)
              .getAsJsonObject()
              .getAsJsonArray("objects")
              .get(0)
              .getAsJsonObject()
              .get("name")
              .getAsString());
    }
  }

  @Test
  void everyObjectsCountersAreShownAsTotalsInTextAndJson() throws Exception {
    Path file = directory.resolve("counted.region");
    try (SharedRegion region = SharedRegion.open(file)) {
      Mutex mutex = region.mutex("m");
      for (int i = 0; i < 3; i++) {
        mutex.tryLock().orElseThrow().unlock();
      }
      MutexGuard holder = mutex.tryLock().orElseThrow();
      CompletableFuture<MutexGuard> queued = mutex.lock();
      Thread.sleep(20);
      holder.unlock();
      queued.get(20, TimeUnit.SECONDS).unlock();
      region.waitQueue("q", 8);

      Run json = ringlock("inspect", "--json", file.toString());
      assertEquals(0, json.exitCode(), json.err());
      JsonObject counters = json.object("m").getAsJsonObject("counters");
      assertEquals(5, counters.get("acquisitions").getAsLong());
      assertEquals(1, counters.get("contended").getAsLong());
      assertTrue(counters.get("waitNanos").getAsLong() >= 15_000_000L, counters.toString());
      assertEquals(0, counters.get("takeovers").getAsLong());
      assertEquals(0, counters.get("recovered").getAsLong());
      assertEquals(0, counters.get("rescuedWaits").getAsLong());
      assertEquals(0, json.object("q").getAsJsonObject("counters").get("acquisitions").getAsLong());

      Run text = ringlock("inspect", file.toString());
      assertEquals(0, text.exitCode(), text.err());
      assertTrue(
          text.out().contains("totals: 5 acquisitions, 1 contended (mean wait "), text.out());
      assertTrue(text.out().contains("totals: 0 waits, 0 woken, 0 takeovers"), text.out());
      assertFalse(text.out().contains("rates:"), "no rates without --watch: " + text.out());
    }
  }

  @Test
  void watchShowsTheRatesOfTheLastIntervalFromTheSecondSnapshotOn() throws Exception {
    Path file = directory.resolve("rates.region");
    try (SharedRegion region = SharedRegion.open(file)) {
      region.mutex("m");
    }
    Run run = ringlock("inspect", "--watch", "--count", "2", "--interval", "50", file.toString());
    assertEquals(0, run.exitCode(), run.err());
    List<String> rates = run.out().lines().filter(l -> l.contains("rates:")).toList();
    assertEquals(
        1, rates.size(), "one rates line, under the second snapshot's mutex: " + run.out());
    assertTrue(
        rates.get(0).endsWith("rates: 0.0 acq/s, 0.0 contended/s, +0 takeovers"), rates.get(0));
  }

  @Test
  void ratesArePerSecondOverTheIntervalAndACounterThatWentDownIsAQuestionMark() {
    Counters before = new Counters(100, 10, 20_000_000, 1, 0, 0);
    Counters after = new Counters(1_100, 14, 28_000_000, 2, 0, 0);
    assertEquals(
        "rates: 500.0 acq/s, 2.0 contended/s (mean wait 2.0 ms), +1 takeovers",
        InspectCommand.ratesLine(after, before, 2.0, "mutex"));
    assertEquals(
        "rates: 500.0 waits/s, 2.0 woken/s (mean wait 2.0 ms), +1 takeovers",
        InspectCommand.ratesLine(after, before, 2.0, "wait queue"));
    // the file was recreated, or a counter damaged: shown, never trusted
    assertEquals(
        "rates: ? acq/s, ? contended/s, ? takeovers",
        InspectCommand.ratesLine(before, after, 2.0, "mutex"));
  }
}
