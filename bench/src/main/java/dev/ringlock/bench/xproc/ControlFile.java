package dev.ringlock.bench.xproc;

import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/*
 * Overview
 *
 * The small file (under /dev/shm) that the driver and its two children of one measurement map:
 * the phase the driver steers, the plain counter every loop variant increments, the spin-CAS
 * lock word and the two ping-pong words. The lock under test never lives here except for the
 * spin-CAS word, which is the lock itself; a ringlock Mutex lives in a region file of its own
 * (mapping a region file a second time, outside SharedRegion, is not safe).
 *
 * Ordering: the driver publishes a phase with setRelease and children read it with getAcquire;
 * nothing else is ordered by the phase. The counter is read and written plainly on purpose: only
 * the lock under test makes it exact, and the driver reads it after both children have exited.
 * The read-mostly loop's record is the counter and the word beside it, written and read plainly
 * as well: a writer increments both, and a reader that finds them different saw a writer inside.
 * The spin lock is acquired by compareAndSet and released by setRelease (a release store pairs
 * with the acquiring CAS of the next owner). Ping and pong are written with setVolatile before
 * the wake's system call and read with getVolatile, as in PingPong. The fan-out's armed count is
 * added to atomically (several waiter processes); its stamp and generation are written with
 * setVolatile before the wake and read with getVolatile after it.
 */
final class ControlFile implements AutoCloseable {
  static final int WAITING = 0; // children map the file and report READY
  static final int WARMUP = 1;
  static final int MEASURE = 2; // loops count sections only in this phase
  static final int STOP = 3;

  static final int STOP_ROUND = -1; // in ping: the initiator is done; rounds count up from 1
  static final int FAILED_ROUND = -2; // in pong: the responder gave up

  // ---- layout: every word on its own pair of cache lines (x86 prefetches lines in pairs) ----
  private static final long PHASE = 0; // int: WAITING..STOP, written by the driver only
  private static final long COUNTER = 128; // long: plain; exact only if the lock excludes
  private static final long COUNTER_TWIN = 136; // long: plain; equals COUNTER outside a write
  private static final long SPIN_LOCK = 256; // int: 0 = free, else the owner's pid
  private static final long PING = 384; // int: the initiator's last round, or STOP_ROUND
  private static final long PONG = 512; // int: the responder's last answer, or FAILED_ROUND
  private static final long ARMED = 640; // int: fan-out waits armed so far, over all waiters
  private static final long STAMP = 768; // long: System.nanoTime() just before the fan-out's wake
  private static final long GENERATION = 896; // int: the fan-out's round, for the futex peer
  private static final long TURN = 1024; // int: which HandoffChild (1 or 2) took the lock last
  private static final long SIZE = 4096;

  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

  private final FileChannel channel;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment memory;

  private ControlFile(FileChannel channel) throws IOException {
    this.channel = channel;
    if (channel.size() != SIZE) { // never map past the end: a CAS there would SIGBUS the JVM
      channel.close();
      throw new IOException("control file is " + channel.size() + " bytes, expected " + SIZE);
    }
    this.memory = channel.map(FileChannel.MapMode.READ_WRITE, 0, SIZE, arena);
  }

  /** Creates a zeroed control file (0600); fails if {@code path} exists. */
  static ControlFile create(Path path) throws IOException {
    Files.createFile(
        path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    channel.write(ByteBuffer.allocate(1), SIZE - 1); // extend to SIZE, all zero
    return new ControlFile(channel);
  }

  /** Maps the control file the driver created. */
  static ControlFile attach(Path path) throws IOException {
    return new ControlFile(
        FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE));
  }

  /** The open channel of the file, for the FileChannel.lock variant. */
  FileChannel channel() {
    return channel;
  }

  // ---- phase ----

  int phase() {
    return (int) INT.getAcquire(memory, PHASE);
  }

  void publishPhase(int phase) {
    INT.setRelease(memory, PHASE, phase);
  }

  /** Returns once the driver has moved past WAITING, polling gently: a sibling may be starting. */
  void awaitStart() {
    while (phase() == WAITING) {
      LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
    }
  }

  // ---- counter ----

  /** Plain read-modify-write: the lock under test is all that keeps it exact. */
  void incrementCounter() {
    memory.set(ValueLayout.JAVA_LONG, COUNTER, memory.get(ValueLayout.JAVA_LONG, COUNTER) + 1);
  }

  long counter() {
    return memory.get(ValueLayout.JAVA_LONG, COUNTER);
  }

  /** The read-mostly write: both words of the record, plainly; only the lock keeps them equal. */
  void incrementRecord() {
    incrementCounter();
    memory.set(
        ValueLayout.JAVA_LONG, COUNTER_TWIN, memory.get(ValueLayout.JAVA_LONG, COUNTER_TWIN) + 1);
  }

  /** The read-mostly read: whether the record's two words differ (a writer was inside). */
  boolean recordTorn() {
    return memory.get(ValueLayout.JAVA_LONG, COUNTER)
        != memory.get(ValueLayout.JAVA_LONG, COUNTER_TWIN);
  }

  // ---- spin-CAS lock word ----

  boolean casSpinLock(int expected, int owner) {
    return INT.compareAndSet(memory, SPIN_LOCK, expected, owner);
  }

  int spinLockAcquire() {
    return (int) INT.getAcquire(memory, SPIN_LOCK);
  }

  void releaseSpinLock() {
    INT.setRelease(memory, SPIN_LOCK, 0);
  }

  // ---- ping-pong words ----

  /** Shared futexes: the other process maps this file at another address. */
  FutexWord pingWord() {
    return FutexWord.of(memory, PING, FutexScope.SHARED);
  }

  FutexWord pongWord() {
    return FutexWord.of(memory, PONG, FutexScope.SHARED);
  }

  int pingVolatile() {
    return (int) INT.getVolatile(memory, PING);
  }

  void setPingVolatile(int round) {
    INT.setVolatile(memory, PING, round);
  }

  int pongVolatile() {
    return (int) INT.getVolatile(memory, PONG);
  }

  void setPongVolatile(int round) {
    INT.setVolatile(memory, PONG, round);
  }

  // ---- fan-out words ----

  void addArmed() {
    INT.getAndAdd(memory, ARMED, 1);
  }

  int armed() {
    return (int) INT.getVolatile(memory, ARMED);
  }

  void setStamp(long nanoTime) {
    LONG.setVolatile(memory, STAMP, nanoTime);
  }

  long stamp() {
    return (long) LONG.getVolatile(memory, STAMP);
  }

  FutexWord generationWord() {
    return FutexWord.of(memory, GENERATION, FutexScope.SHARED);
  }

  int generation() {
    return (int) INT.getVolatile(memory, GENERATION);
  }

  void setGeneration(int round) {
    INT.setVolatile(memory, GENERATION, round);
  }

  // ---- handoff word (the stamp is the fan-out's) ----

  int turn() {
    return (int) INT.getVolatile(memory, TURN);
  }

  void setTurn(int process) {
    INT.setVolatile(memory, TURN, process);
  }

  /** Unmaps and closes. Only once no ring operation can still touch a word of this file. */
  @Override
  public void close() throws IOException {
    arena.close();
    channel.close();
  }
}
